-- wrk script of the benchmark (bench/load.js --generator wrk): the requests
-- of a list, round-robin, each prepared once (wrk.format in init: nothing is
-- built per request), and one JSON line of results from done().
--
--   wrk -t1 -c32 -d5s -s bench/wrk/requests.lua http://127.0.0.1:9497 -- <requests.tsv>
--
-- <requests.tsv>: one request a line, tab-separated: METHOD, PATH, then
-- "Name: value" headers. Each wrk thread walks the list from its own start.
local queue = {}
local size = 0
local at = 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    local fields = {}
    for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
    local headers = {}
    for k = 3, #fields do
      local name, value = string.match(fields[k], "^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    size = size + 1
    queue[size] = wrk.format(fields[1], fields[2], headers)
  end
  file:close()
  at = 0
end

function request()
  at = at + 1
  if at > size then at = 1 end
  return queue[at]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"min":%d,"mean":%.3f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
