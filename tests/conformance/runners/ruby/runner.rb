# frozen_string_literal: true

# The Ruby runner of the conformance suite (tests/conformance/README.md, "The
# runner contract"), over the SWIG-generated binding (Xchan::Raw: the calls
# as the core reports them, error codes as Xchan::<NAME> exceptions).
#
#   ruby tests/conformance/runners/ruby/runner.rb --cases DIR [--json] [--case NAME]
#
# It runs the cases the Ruby binding can express, under the "thread" kind
# (each proc a Ruby Thread; Ruby code cannot run as a go task): channels,
# buffers, put/take/offer/poll/close with deadlines, info/wait/drain,
# timeouts, alts, repeat.  A case needing anything else (async ops,
# transforms, combinators, tasks, executors, cancel tokens, host or box
# values) is listed as not expressible, never as passed.  Exit 0 when every
# case run passed, 1 otherwise, 3 when the binding is not built.
require "json"

ROOT = File.expand_path("../../../..", __dir__)
BUILD = ENV.fetch("XCHAN_BUILD_DIR", File.join(ROOT, "build"))
$LOAD_PATH.unshift(File.join(BUILD, "bindings/ruby/lib"), File.join(ROOT, "bindings/ruby/lib"))
begin
  require "xchan"
rescue LoadError => e
  warn "conformance/ruby: the Ruby binding is not built (#{e.message})"
  exit 3
end

module Conformance
  R = Xchan::Raw
  OPS = %w[chan put offer take poll close info wait drain timeout repeat alts alts_repeat seed].freeze
  BUFS = { "none" => R::BUF_NONE, "fixed" => R::BUF_FIXED, "dropping" => R::BUF_DROPPING,
           "sliding" => R::BUF_SLIDING, "promise" => R::BUF_PROMISE }.freeze
  BUF_NAMES = BUFS.invert.freeze
  UNSUPPORTED_VALUES = %w[host foreign_host box].freeze

  class RunnerError < StandardError; end

  # Why a case cannot be expressed here, or nil.
  def self.inexpressible(c)
    return "kind thread not allowed" unless (c["kinds"] || %w[thread task]).include?("thread")

    (c["chans"] || {}).each_value do |spec|
      return "channel transform or error handler" if spec.key?("xform") || spec.key?("on_error")
    end
    why = nil
    walk = lambda do |o|
      case o
      when Hash
        why ||= "op #{o['op']}" if o.key?("op") && !OPS.include?(o["op"])
        why ||= "cancel tokens" if o.key?("op") && o.key?("cancel")
        why ||= "transforms" if o["op"] == "chan" && (o.key?("xform") || o.key?("on_error"))
        why ||= "#{(o.keys & UNSUPPORTED_VALUES).first} values" if o.size == 1 && UNSUPPORTED_VALUES.include?(o.keys.first)
        o.each_value { |v| walk.call(v) }
      when Array then o.each { |v| walk.call(v) }
      end
    end
    walk.call(c["procs"])
    why
  end

  # One case run: named channels, the trace, the procs.
  class World
    def initialize
      @chans = {}
      @mu = Mutex.new
      @trace = []
    end

    attr_reader :trace

    def chan(name)
      @mu.synchronize { @chans[name] }
    end

    def bind(name, ch)
      @mu.synchronize { @chans[name] = ch }
    end

    def name_of(ch)
      @mu.synchronize { @chans.find { |_, c| c == ch }&.first } || "?"
    end

    def record(entry)
      @mu.synchronize { @trace << entry }
    end

    # ---- values ----

    def to_ruby(j)
      case j
      when nil, true, false, Integer, String then j
      when Array then j.map { |x| to_ruby(x) }
      when Hash
        k, v = j.first
        case k
        when "int" then Integer(v)
        when "double"
          { "nan" => Float::NAN, "inf" => Float::INFINITY, "-inf" => -Float::INFINITY }.fetch(v) { Float(v) }
        when "bytes" then [v].pack("H*")
        when "chan" then chan(v) || raise(RunnerError, "unknown channel #{v}")
        else raise RunnerError, "value #{j.inspect} is not expressible"
        end
      else raise RunnerError, "bad value #{j.inspect}"
      end
    end

    def to_json_val(v)
      case v
      when nil, true, false then v
      when Integer then v.abs > 2**53 ? { "int" => v.to_s } : v
      when Float
        if v.nan? then { "double" => "nan" }
        elsif v.infinite? then { "double" => v.positive? ? "inf" : "-inf" }
        else { "double" => v }
        end
      when String then v.encoding == Encoding::BINARY ? { "bytes" => v.unpack1("H*") } : v
      when Array then v.map { |x| to_json_val(x) }
      when Xchan::Chan then { "chan" => name_of(v) }
      else { "unknown_kind" => v.class.name }
      end
    end

    # ---- ops ----

    def err(name, extra = {})
      { "err" => name }.merge(extra)
    end

    def deadline(op)
      ms = op["timeout_ms"]
      return R::DEADLINE_NEVER unless ms.is_a?(Numeric)
      return R::DEADLINE_POLL if ms <= 0

      R.deadline_in_ms(ms.to_i)
    end

    # Runs a block of binding calls; an Xchan::Error becomes its name.
    def core
      yield
    rescue Xchan::Error => e
      err(e.class.name.split("::").last)
    end

    def named_chan(op, key = "ch")
      name = op[key]
      return nil if name.nil?

      chan(name) || raise(RunnerError, "unknown channel #{name}")
    end

    def info_hash(ch, fields = nil)
      i = ch.info
      all = { "buf" => BUF_NAMES.fetch(i.buf_kind, "?"), "capacity" => i.capacity, "count" => i.count,
              "closed" => i.closed != 0, "pending_puts" => i.pending_puts,
              "pending_takes" => i.pending_takes, "max_pending" => i.max_pending }
      fields.is_a?(Array) ? fields.to_h { |f| [f, all[f]] } : all
    end

    def make_chan(spec)
      kind = BUFS.fetch(spec.fetch("buf", "none"), 99)
      R.chan_new(kind, spec.fetch("n", 0), spec.fetch("max_pending", 0))
    end

    def exec(op)
      case op["op"]
      when "chan"
        core do
          bind(op["as"], make_chan(op))
          err("OK")
        end
      when "put", "offer"
        ch = named_chan(op)
        v = to_ruby(op["val"])
        core do
          op["op"] == "put" ? R.put(ch, v, deadline(op)) : R.offer(ch, v)
          err("OK")
        end
      when "take", "poll"
        ch = named_chan(op)
        core do
          v = op["op"] == "take" ? R.take(ch, deadline(op)) : R.poll(ch)
          err("OK", "val" => to_json_val(v))
        end
      when "close"
        core do
          R.chan_close(named_chan(op))
          err("OK")
        end
      when "info"
        ch = named_chan(op) or raise RunnerError, "info of a null channel"
        err("OK", "val" => info_hash(ch, op["fields"]))
      when "wait" then wait(op)
      when "drain" then drain(op)
      when "timeout"
        core do
          bind(op["as"], R.timeout(op.fetch("ms", 0)))
          err("OK")
        end
      when "repeat"
        counts = Hash.new(0)
        op.fetch("n", 1).times { counts[exec(op["do"])["err"]] += 1 }
        err("OK", "val" => counts)
      when "alts" then alts(op)
      when "alts_repeat" then alts_repeat(op)
      when "seed"
        R.random_seed(op.fetch("seed", 0))
        err("OK")
      else raise RunnerError, "op #{op['op']} is not expressible"
      end
    rescue RunnerError => e
      err("RUNNER", "msg" => e.message)
    end

    def wait(op)
      ch = named_chan(op) or raise RunnerError, "wait on a null channel"
      want = op["until"] || {}
      stop = Process.clock_gettime(Process::CLOCK_MONOTONIC) + op.fetch("within_ms", 5000) / 1000.0
      loop do
        now = info_hash(ch)
        return err("OK") if want.all? { |k, v| now[k] == v }
        return err("ETIMEDOUT") if Process.clock_gettime(Process::CLOCK_MONOTONIC) > stop

        sleep 0.0005 # polling the channel's state, as the C runner's nap
      end
    end

    def drain(op)
      ch = named_chan(op)
      stop = R.deadline_in_ms(op.fetch("within_ms", 5000))
      vals = []
      loop { vals << to_json_val(R.take(ch, stop)) }
    rescue Xchan::ECLOSED
      err("OK", "val" => vals)
    rescue Xchan::Error => e
      err(e.class.name.split("::").last, "val" => vals)
    end

    def clauses(op)
      (op["clauses"] || []).map do |c|
        if c.key?("take") then [R::ALT_TAKE, named_chan(c, "take")]
        elsif c.key?("put") then [R::ALT_PUT, named_chan(c, "put"), to_ruby(c["val"])]
        else [99, named_chan(c, c.keys.first)]
        end
      end
    end

    def alts(op)
      cl = clauses(op)
      flags = op["priority"] ? R::ALTS_PRIORITY : 0
      index, value = R.alts(cl, flags, deadline(op))
      if cl[index][0] == R::ALT_PUT
        err(value ? "OK" : "ECLOSED", "index" => index)
      elsif value.nil?
        err("ECLOSED", "index" => index)
      else
        err("OK", "index" => index, "val" => to_json_val(value))
      end
    rescue Xchan::Error => e
      err(e.class.name.split("::").last, "index" => -1)
    end

    def alts_repeat(op)
      cl = clauses(op)
      raise RunnerError, "no clauses" if cl.empty?

      flags = op["priority"] ? R::ALTS_PRIORITY : 0
      counts = Array.new(cl.size, 0)
      res = "OK"
      op.fetch("n", 1000).times do
        cl.each_with_index { |(_, ch), i| (R.offer(ch, i) rescue nil) }
        begin
          index, = R.alts(cl, flags, R::DEADLINE_POLL)
          counts[index] += 1
        rescue Xchan::Error => e
          res = e.class.name.split("::").last
        end
        cl.each { |(_, ch)| loop { R.poll(ch) } rescue nil }
        break unless res == "OK"
      end
      share = op["min_share"]
      fair = share.is_a?(Numeric) && counts.all? { |k| k >= share * op.fetch("n", 1000) }
      err(res, "val" => fair ? "fair" : counts)
    end
  end

  # Comparison, as the C runner: the expectation normalized, "any" skips.
  def self.normalize(op, e)
    x = case e
        when nil then { "err" => "OK" }
        when String then { "err" => e }
        else { "err" => "OK" }.merge(e)
        end
    x["time"] = "ok" if op.key?("elapsed_ms")
    x["val"] = x["val"].sort_by(&:to_json) if op["unordered"] && x["val"].is_a?(Array)
    x
  end

  def self.run_ops(world, path, ops)
    marks = {} # "mark" names an op's start time; "since" measures from it
    ops.each_with_index do |op, i|
      t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      marks[op["mark"]] = t0 if op["mark"]
      actual = world.exec(op)
      from = op["since"] ? marks.fetch(op["since"], t0) : t0
      ms = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - from) * 1000
      if (win = op["elapsed_ms"]).is_a?(Array) && win.size == 2
        actual["time"] = ms.between?(win[0], win[1]) ? "ok" : format("%.1f ms, outside [%g, %g]", ms, *win)
      end
      actual["val"] = actual["val"].sort_by(&:to_json) if op["unordered"] && actual["val"].is_a?(Array)
      expect = normalize(op, op["expect"])
      ok = op["expect"] == "any" ||
           ((op.key?("expect") || !op.key?("expect_one_of")) && expect == actual) ||
           (op["expect_one_of"] || []).any? { |alt| normalize(op, alt) == actual }
      world.record("proc" => path, "i" => i, "op" => op["op"], "expect" => expect, "actual" => actual, "ok" => ok)
    end
  end

  def self.run_case(file, c)
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    world = World.new
    diff = []
    (c["chans"] || {}).each do |name, spec|
      world.bind(name, world.make_chan(spec))
    rescue Xchan::Error => e
      diff << "channel #{name}: #{e.class.name.split('::').last}"
    end
    stop = t0 + c.fetch("timeout_ms", 20_000) / 1000.0
    threads = diff.empty? ? c["procs"].map { |p| Thread.new { run_ops(world, p.fetch("name", "main"), p["ops"]) } } : []
    threads.each { |t| t.report_on_exception = false }
    hang = threads.any? { |t| t.join([stop - Process.clock_gettime(Process::CLOCK_MONOTONIC), 0].max).nil? }
    errors = threads.reject(&:alive?).filter_map { |t| t.value rescue $! }.grep(Exception)
    errors.each { |e| diff << "runner error: #{e.class}: #{e.message}" }
    world.trace.each { |e| diff << e.reject { |k, _| k == "ok" } if hang || !e["ok"] }
    diff << "a proc did not finish before the case's deadline" if hang
    status = hang ? "hang" : diff.empty? ? "pass" : "fail"
    { "case" => c["name"], "file" => file, "lang" => "ruby", "kind" => "thread", "status" => status,
      "diff" => diff, "ms" => ((Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0) * 1000).round }
  end

  def self.main(argv)
    dir = nil
    only = nil
    json = false
    until argv.empty?
      case (a = argv.shift)
      when "--cases" then dir = argv.shift
      when "--case" then only = argv.shift
      when "--json" then json = true
      else
        warn "usage: runner.rb --cases DIR [--json] [--case NAME] (unknown #{a})"
        return 2
      end
    end
    unless dir
      warn "runner.rb: --cases DIR is required"
      return 2
    end

    results = []
    skipped = Hash.new { |h, k| h[k] = [] }
    Dir[File.join(dir, "*.json")].sort.each do |path|
      data = JSON.parse(File.read(path))
      data = data["cases"] if data.is_a?(Hash)
      data.each do |c|
        next if only && c["name"] != only

        if (why = inexpressible(c))
          skipped[why] << c["name"]
          next
        end
        r = run_case(File.basename(path), c)
        results << r
        unless json
          puts format("%-6s thread %s (%d ms)", r["status"], r["case"], r["ms"])
          r["diff"].each { |d| puts "    #{d.is_a?(String) ? d : d.to_json}" } unless r["status"] == "pass"
        end
        break if r["status"] == "hang"
      end
    end
    if json
      puts JSON.generate(results)
    else
      passed = results.count { |r| r["status"] == "pass" }
      puts "ruby conformance: #{passed} of #{results.size} cases passed (thread kind); " \
           "#{skipped.values.sum(&:size)} not expressible in the Ruby binding:"
      skipped.sort_by { |_, v| -v.size }.each { |why, names| puts "  #{names.size.to_s.rjust(4)}  #{why}" }
    end
    results.all? { |r| r["status"] == "pass" } ? 0 : 1
  end
end

exit Conformance.main(ARGV.dup)
