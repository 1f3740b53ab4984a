# frozen_string_literal: true

# The Ruby demo (make demo): a C library streams readings into a channel
# from one of xchan's IO threads, a go task sums what Ruby forwards, and
# Ruby waits on both with alts and a timeout.
#
#   ruby -I build/bindings/ruby/lib -I bindings/ruby/lib bindings/ruby/examples/demo.rb
root = File.expand_path("../../..", __dir__)
build = ENV.fetch("XCHAN_BUILD_DIR", File.join(root, "build"))
$LOAD_PATH.unshift(File.join(build, "bindings/ruby/lib"), File.join(root, "bindings/ruby/lib"))
require "xchan"

lib = File.join(build, "tests/cross/native/libsensor.so")
readings = Xchan::Chan.new(16)
forwarded = Xchan::Chan.new(16)

Xchan::Native.io_thread(lib, "stream", "v(ci)", readings, 10)    # void stream(xchan_chan *, int64_t)
total = Xchan::Native.go(lib, "sum", "i(c)", forwarded)            # int64_t sum(xchan_chan *)

readings.each do |r|
  puts "ruby got reading #{r} from C, forwarding #{r * r}"
  forwarded << r * r
end
forwarded.close

value, chan = Xchan.alts([total, Xchan.timeout(5)])
abort "demo: timed out waiting for the sum" unless chan == total
puts "the go task summed the squares: #{value}"
abort "demo: expected 385, got #{value}" unless value == 385

begin
  Xchan::Native.go(lib, "stream", "v(ci)", readings, "ten")
rescue Xchan::WrongKindError => e
  puts "a bad call raises before anything runs: #{e.message}"
end
