/** Placeholder: built in a following step. */
export function DevicesPage() {
  return <p className="muted">Coming next.</p>;
}
