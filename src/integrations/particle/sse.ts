/** One Server-Sent Event as dispatched by the parser. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Incremental parser of the `text/event-stream` wire format (WHATWG HTML §9.2): lines end with
 * CRLF, LF or CR; `:` starts a comment (Particle's `:ok` and keep-alives); `field: value` with
 * one optional space after the colon; several `data` lines join with "\n"; a blank line
 * dispatches the event (none when no data line came). Chunks may split anywhere.
 */
export class SseParser {
  private buffer = '';
  private eventName = '';
  private data: string[] = [];
  private lastId: string | undefined;
  /** A CR ended the last chunk: a LF starting the next one belongs to it. */
  private pendingCr = false;

  constructor(private readonly onMessage: (m: SseMessage) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i += 1;
        } else {
          this.pendingCr = true;
        }
      }
      start = i + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventName = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
      // `retry` and unknown fields: nothing to do (reconnects are ours).
    }
  }

  private dispatch(): void {
    const name = this.eventName;
    const data = this.data;
    this.eventName = '';
    this.data = [];
    if (data.length === 0) return;
    this.onMessage({ event: name || 'message', data: data.join('\n'), id: this.lastId });
  }
}
