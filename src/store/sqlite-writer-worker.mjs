// Worker entry in plain JavaScript: registers the TypeScript loader, then runs the writer.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-writer-worker.ts');
