// What the guest was refused during one run, bounded: the first MAX_EVENTS events are kept and the
// rest only counted, so a guest cannot grow the host's memory by provoking refusals. Shared by the
// WASI guest and the Python sandbox; every event is decided on the host side.
export const AUDIT_EVENT_KINDS = [
  'denied-import',
  'path-escape',
  'read-only',
  'quota',
  'symlink-target',
  'memory-grow',
  'table-grow',
  'host-call',
  'network',
  'fs-denied',
] as const;

export type AuditEventKind = (typeof AUDIT_EVENT_KINDS)[number];

export interface AuditEvent {
  kind: AuditEventKind;
  detail: string;
}

export interface Audit {
  events: AuditEvent[];
  /** Events beyond the bound, counted but not kept. */
  dropped: number;
}

const MAX_EVENTS = 64;
const MAX_DETAIL = 256;

/** Where a layer that refuses something reports it (an AuditTrail's `add`, or nothing). */
export type AuditSink = (kind: AuditEventKind, detail: string) => void;

export function emptyAudit(): Audit {
  return { events: [], dropped: 0 };
}

export class AuditTrail {
  private readonly events: AuditEvent[] = [];
  private dropped = 0;

  /** Bound so it can be handed out as an AuditSink. */
  readonly add = (kind: AuditEventKind, detail: string): void => {
    if (this.events.length >= MAX_EVENTS) {
      this.dropped++;
      return;
    }
    this.events.push({ kind, detail: detail.length > MAX_DETAIL ? detail.slice(0, MAX_DETAIL) + '…' : detail });
  };

  toJSON(): Audit {
    return { events: [...this.events], dropped: this.dropped };
  }
}
