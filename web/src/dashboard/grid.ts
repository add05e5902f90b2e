/** Grid geometry shared by the builder (react-grid-layout) and the device view (CSS grid). */
export const ROW_HEIGHT = 60;
export const GAP = 10;
export { GRID_COLUMNS, MAX_TABS, MAX_WIDGETS_PER_TAB } from '../../../src/domain/widgets.ts';
