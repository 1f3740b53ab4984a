# frozen_string_literal: true

# Rough costs of the Ruby binding's hot paths (not a test; numbers vary with
# the machine's load):  ruby bindings/ruby/bench/put_take.rb
root = File.expand_path("../../..", __dir__)
build = ENV.fetch("XCHAN_BUILD_DIR", File.join(root, "build"))
$LOAD_PATH.unshift(File.join(build, "bindings/ruby/lib"), File.join(root, "bindings/ruby/lib"))
require "xchan"

N = 200_000

def per_op(count)
  t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  yield
  ((Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0) / count * 1e9).round
end

ch = Xchan::Chan.new(1024)
puts "Chan#put + Chan#take, one thread, buffered: #{per_op(N) { N.times { |i| ch.put(i); ch.take } }} ns per pair"
puts "Xchan::Raw.put + take (generated calls):    #{per_op(N) { N.times { |i| Xchan::Raw.put(ch, i, -1); Xchan::Raw.take(ch, -1) } }} ns per pair"
q = Queue.new
puts "Ruby Queue push + pop, for comparison:      #{per_op(N) { N.times { |i| q.push(i); q.pop } }} ns per pair"
lib = ENV.fetch("XCHAN_SENSOR_LIB", File.join(build, "tests/cross/native/libsensor.so"))
ch = Xchan::Chan.new(64)
got = 0
ns = per_op(N) do
  Xchan::Native.thread(lib, "stream", "v(ci)", ch, N)
  ch.each { got += 1 }
end
puts "C thread (libsensor stream) -> Ruby taker:  #{ns} ns per value (#{got} values)"
