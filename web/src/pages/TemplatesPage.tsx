/** Placeholder: built in a following step. */
export function TemplatesPage() {
  return <p className="muted">Coming next.</p>;
}
