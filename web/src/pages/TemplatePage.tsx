/** Placeholder: built in a following step. */
export function TemplatePage() {
  return <p className="muted">Coming next.</p>;
}
