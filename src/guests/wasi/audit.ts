// What the guest was refused during one run, bounded: the first MAX_EVENTS events are kept and the
// rest only counted, so a guest cannot grow the host's memory by provoking refusals.
export type AuditEventKind =
  | 'denied-import'
  | 'path-escape'
  | 'read-only'
  | 'quota'
  | 'symlink-target'
  | 'memory-grow'
  | 'table-grow'
  | 'host-call';

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

export class AuditTrail {
  private readonly events: AuditEvent[] = [];
  private dropped = 0;

  add(kind: AuditEventKind, detail: string): void {
    if (this.events.length >= MAX_EVENTS) {
      this.dropped++;
      return;
    }
    this.events.push({ kind, detail: detail.length > MAX_DETAIL ? detail.slice(0, MAX_DETAIL) + '…' : detail });
  }

  toJSON(): Audit {
    return { events: [...this.events], dropped: this.dropped };
  }
}
