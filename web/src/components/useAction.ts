import { useCallback, useState } from 'react';

/**
 * The busy/error state of a button's work: `run(f)` marks busy, clears the last error, awaits
 * `f` and keeps whatever it threw for display (an ErrorBox), never a stack trace.
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}
