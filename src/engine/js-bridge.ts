// The JS-bridge imports of MicroPython's webassembly port (the `js` and `jsffi` modules call these).
// In pyfence they reach nothing: no JS object of the host is ever handed to the guest, every lookup
// answers "not found", every call or conversion yields `undefined`. There is no table of JS objects.
import type { GuestMemory } from './memory-view.js';

const PROXY_KIND_JS_UNDEFINED = 0;

export function denyAllJsBridge(mem: () => GuestMemory): Record<string, (...args: number[]) => number | void> {
  // A proxy value is 3 x u32: kind, then payload.
  const undefinedInto = (out: number) => {
    const m = mem();
    m.setU32(out, PROXY_KIND_JS_UNDEFINED);
    m.setU32(out + 4, 0);
    m.setU32(out + 8, 0);
  };
  return {
    has_attr: () => 0,
    lookup_attr: () => 0,
    store_attr: () => {},
    call0: (_f: number, out: number) => undefinedInto(out),
    call1: (_f: number, _via: number, _a0: number, out: number) => (undefinedInto(out), 0),
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
      mem().setU32(out, 0);
      mem().setU32(out + 4, 0);
    },
    proxy_js_free_obj: () => {},
  };
}
