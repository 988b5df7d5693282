;; A WASI command written in WebAssembly text: prints a greeting and its argument count, then exits
;; with status 3 (the exit status `pyfence wasm` passes on). greet.wasm is this file, built by
;; build.mjs (binaryen's text parser).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Hello from WASI! arguments: ")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (local $argc i32)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    ;; argc counts the program's name too
    (local.set $argc (i32.sub (i32.load (i32.const 16)) (i32.const 1)))
    (call $write (i32.const 64) (i32.const 28))
    ;; one decimal digit and a newline (this example takes fewer than 10 arguments)
    (i32.store8 (i32.const 32) (i32.add (i32.const 48) (i32.rem_u (local.get $argc) (i32.const 10))))
    (i32.store8 (i32.const 33) (i32.const 10))
    (call $write (i32.const 32) (i32.const 2))
    (call $proc_exit (i32.const 3))))
