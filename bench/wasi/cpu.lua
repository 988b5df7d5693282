-- CPU-bound Lua for bench/wasi.ts: recursion, arithmetic loops, strings and tables.
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local parts = {}
for i = 1, 20000 do parts[#parts + 1] = string.format("%d:%x", i, i * 31) end
local s = table.concat(parts, ",")
local sum = 0
for i = 1, 3000000 do sum = sum + (i % 7) * (i % 13) end
print(fib(27), t[1], t[#t], #s, sum)
