# Run by build/cpython/compile-stdlib.ts inside the built CPython: writes a copy of the standard library
# zip with a compiled .pyc beside every module, so that an import unmarshals instead of compiling
# from source (json 0.2 s, typing 1.3 s, asyncio seconds of metered compile otherwise). The .pyc are
# hash-based and unchecked: zipimport takes them without reading the source, which stays in the zip
# for tracebacks and inspect. Each is compiled under the path an import from source would give it.
import importlib._bootstrap_external as external
import sys
import zipfile

import _imp


def compile_stdlib(source_zip, guest_path, out_zip):
    """Returns (compiled, skipped) counts; `skipped` are sources CPython itself cannot compile."""
    compiled = skipped = 0
    with zipfile.ZipFile(source_zip) as src, zipfile.ZipFile(out_zip, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            out.writestr(info, data)
            if not info.filename.endswith(".py"):
                continue
            try:
                code = compile(data, f"{guest_path}/{info.filename}", "exec", dont_inherit=True)
            except SyntaxError:
                skipped += 1
                continue
            source_hash = _imp.source_hash(_imp.pyc_magic_number_token, data)
            pyc = external._code_to_hash_pyc(code, source_hash, checked=False)
            # The source's date, so that the zip is the same on every build; stored, since zipimport
            # would otherwise inflate it in metered wasm at every import.
            pyc_info = zipfile.ZipInfo(info.filename + "c", date_time=info.date_time)
            pyc_info.compress_type = zipfile.ZIP_STORED
            out.writestr(pyc_info, bytes(pyc))
            compiled += 1
    return compiled, skipped
