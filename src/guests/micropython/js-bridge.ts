// The JS-bridge imports of MicroPython's webassembly port (the `js` and `jsffi` modules call these).
// No JS object of the host is ever handed to the guest. One name resolves, and only while the
// interpreter is baked: the host channel, a JsProxy that the prelude captures and that carries one
// string in and one string out per call (the host-function bridge encodes data on both sides). Every
// other lookup answers "not found", every other call or conversion yields `undefined`. There is no
// table of JS objects.
import { HOST_REQUEST_MAX_BYTES } from '../../engine/host.js';
import type { GuestMemory } from '../../engine/memory-view.js';

/** The attribute of the `js` module (the JS global scope) that yields the host channel. */
export const HOST_CHANNEL_NAME = '__pyfence_host__';
// Refs 0 and 1 are the port's static ones (globalThis, undefined); the channel takes the next.
const HOST_CHANNEL_REF = 2;

// Proxy value kinds (ports/webassembly/proxy_c.c): a proxy value is 3 x u32, kind then payload.
const PROXY_KIND_MP_STR = 5;
const PROXY_KIND_JS_UNDEFINED = 0;
const PROXY_KIND_JS_STRING = 5;
const PROXY_KIND_JS_OBJECT = 7;

export interface BridgeHost {
  memory(): GuestMemory;
  /** Allocates in the guest (its malloc); 0 on failure. The guest frees strings it receives. */
  malloc(size: number): number;
  /** Answers one request string from the guest's host channel. */
  /** Called before a request of `byteLength` bytes is read: charges for it, and may stop the guest. */
  beforeRequest(byteLength: number): void;
  /** `null`: a request over HOST_REQUEST_MAX_BYTES, not read. */
  hostCall(request: string | null): string;
  /** True only while baking: the prelude captures the channel then, and no code after it can. */
  channelVisible(): boolean;
}

const encoder = new TextEncoder();

export function jsBridge(host: BridgeHost): Record<string, (...args: number[]) => number | void> {
  const write = (out: number, kind: number, a = 0, b = 0) => {
    const m = host.memory();
    m.setU32(out, kind);
    m.setU32(out + 4, a);
    m.setU32(out + 8, b);
  };
  const undefinedInto = (out: number) => write(out, PROXY_KIND_JS_UNDEFINED);
  const isChannel = (ref: number, name: number) =>
    ref === 0 && host.channelVisible() && host.memory().cString(name) === HOST_CHANNEL_NAME;

  const callChannel = (a0: number, out: number) => {
    const m = host.memory();
    if (m.u32(a0) !== PROXY_KIND_MP_STR) return undefinedInto(out);
    const length = m.u32(a0 + 4);
    host.beforeRequest(length);
    const request = length > HOST_REQUEST_MAX_BYTES ? null : m.utf8(m.u32(a0 + 8), length);
    const reply = encoder.encode(host.hostCall(request));
    const ptr = host.malloc(reply.length + 1);
    if (!ptr) return undefinedInto(out); // the guest sees a failed call, not a crash
    const view = host.memory().bytes(ptr, reply.length + 1);
    view.set(reply);
    view[reply.length] = 0;
    write(out, PROXY_KIND_JS_STRING, reply.length, ptr);
  };

  return {
    has_attr: (ref: number, name: number) => (isChannel(ref, name) ? 1 : 0),
    lookup_attr: (ref: number, name: number, out: number) => {
      if (!isChannel(ref, name)) return 0;
      write(out, PROXY_KIND_JS_OBJECT, HOST_CHANNEL_REF);
      return 1;
    },
    store_attr: () => {},
    call0: (_f: number, out: number) => undefinedInto(out),
    call1: (f: number, _via: number, a0: number, out: number) => {
      if (f === HOST_CHANNEL_REF) callChannel(a0, out);
      else undefinedInto(out);
      return 0;
    },
    call2: (_f: number, _via: number, _a0: number, _a1: number, out: number) => (undefinedInto(out), 0),
    calln: (_f: number, _via: number, _n: number, _args: number, out: number) => (undefinedInto(out), 0),
    call0_kwarg: (_f: number, _via: number, _n: number, _k: number, _v: number, out: number) => undefinedInto(out),
    calln_kwarg: (_f: number, _via: number, _n: number, _a: number, _nk: number, _k: number, _v: number, out: number) =>
      undefinedInto(out),
    js_subscr_load: (_ref: number, _idx: number, out: number) => undefinedInto(out),
    js_subscr_store: () => {},
    js_get_iter: (_ref: number, out: number) => undefinedInto(out),
    js_iter_next: () => 0,
    js_reflect_construct: (_f: number, _n: number, _args: number, out: number) => undefinedInto(out),
    js_check_existing: () => -1,
    js_get_error_info: (_ref: number, outName: number, outMessage: number) => {
      undefinedInto(outName);
      undefinedInto(outMessage);
    },
    js_then_resolve: () => {},
    js_then_reject: () => {},
    js_then_continue: () => {},
    create_promise: (_set: number, out: number) => undefinedInto(out),
    proxy_convert_mp_to_js_then_js_to_mp_obj_jsside: (out: number) => undefinedInto(out),
    proxy_convert_mp_to_js_then_js_to_js_then_js_to_mp_obj_jsside: (out: number) => undefinedInto(out),
    js_get_proxy_js_ref_info: (out: number) => {
      host.memory().setU32(out, 0);
      host.memory().setU32(out + 4, 0);
    },
    proxy_js_free_obj: () => {},
  };
}
