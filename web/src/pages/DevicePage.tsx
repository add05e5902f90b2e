/** Placeholder: built in a following step. */
export function DevicePage() {
  return <p className="muted">Coming next.</p>;
}
