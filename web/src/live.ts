import { useEffect, useRef } from 'react';
import { session } from './api.ts';

export type LiveMessage =
  | { type: 'value'; deviceId: number; pin: string; value: unknown; ts: number; source?: string }
  | { type: 'status'; deviceId: number; online: boolean; ts: number }
  | { type: 'timeline'; deviceId: number; item: { ts: number; type: string; [k: string]: unknown } }
  | {
      type: 'integration';
      integrationId: number;
      integrationType: string;
      templateId: string;
      status: string;
      lastError: string | null;
    }
  | { type: string; [k: string]: unknown };

/**
 * Live updates from /api/v1/ws: subscribes to one device (or every device when deviceId is
 * undefined) and reconnects with back-off if the connection drops.
 */
export function useLive(deviceId: number | undefined, onMessage: (m: LiveMessage) => void): void {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    let ws: WebSocket | null = null;
    let stopped = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const open = () => {
      const token = session.token;
      if (!token || stopped) return;
      const proto = location.protocol === 'https:' ? 'wss' : 'ws';
      ws = new WebSocket(`${proto}://${location.host}/api/v1/ws?token=${encodeURIComponent(token)}`);
      ws.onopen = () => {
        attempt = 0;
        ws?.send(JSON.stringify(deviceId === undefined ? { type: 'subscribe' } : { type: 'subscribe', deviceId }));
      };
      ws.onmessage = (ev) => {
        try {
          handler.current(JSON.parse(String(ev.data)) as LiveMessage);
        } catch {
          // ignore malformed frames
        }
      };
      ws.onclose = () => {
        if (stopped) return;
        attempt += 1;
        timer = setTimeout(open, Math.min(30_000, 500 * 2 ** attempt));
      };
    };
    open();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    };
  }, [deviceId]);
}
