# The interop test's Ruby side (tests/cross/run ruby).
#
#   XCHAN_BUILD_DIR=build ruby interop.rb /path/to/libinterop.so
#
# Starts interop.c's `produce` on a native thread (Xchan::Native.thread) into
# a channel made here, takes the 19 values and checks each one's Ruby class
# and content, in order (the sequence is in interop.c): STRING arrives as a
# UTF-8 String, BYTES as a BINARY String, ARRAY as an Array.  Then it sends
# the returned sequence (items 0-16) to interop.c's `consume` on another
# native thread and prints its verdict.  Exit status 0 only when both
# directions match.

root = File.expand_path("../../..", __dir__)
build = ENV.fetch("XCHAN_BUILD_DIR", File.join(root, "build"))
$LOAD_PATH.unshift(File.join(build, "bindings/ruby/lib"), File.join(root, "bindings/ruby/lib"))
require "xchan"

TIMEOUT = 30 # seconds for any one take: a hang fails, it does not block CI
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UTF8_TEXT = "h\u00e9llo \u20ac \u{1F642}"

def exact(want)
  ->(v) { v.class == want.class && v == want && (!want.is_a?(String) || v.encoding == want.encoding) }
end

def double(want)
  ->(v) { v.is_a?(Float) && v == want && (1.0 / v).positive? == (1.0 / want).positive? }
end

def bin(*bytes)
  exact(bytes.pack("C*").force_encoding(Encoding::BINARY))
end

EXPECTED = [
  ["bool true", exact(true)],
  ["bool false", exact(false)],
  ["int 0", exact(0)],
  ["int -1", exact(-1)],
  ["int INT64_MIN", exact(INT64_MIN)],
  ["int INT64_MAX", exact(INT64_MAX)],
  ["double 1.5", double(1.5)],
  ["double -0.0", double(-0.0)],
  ["double 1e308", double(1e308)],
  ["double NaN", ->(v) { v.is_a?(Float) && v.nan? }],
  ["string 'hello'", exact("hello")],
  ["string multi-byte UTF-8", exact(UTF8_TEXT)],
  ["string ''", exact("")],
  ["string 'a\\0b'", exact("a\0b")],
  ["bytes 00 ff 00 7f", bin(0, 0xff, 0, 0x7f)],
  ["bytes ''", bin],
  ["chan holding 42, then closed",
   ->(v) { v.is_a?(Xchan::Chan) && v.take(timeout: TIMEOUT) == 42 && v.take(timeout: TIMEOUT).nil? }],
  ["array [1, 'two', [3.5, [true]], <00>]",
   ->(v) { v.is_a?(Array) && exact(1).(v[0]) && exact("two").(v[1]) && v[2].is_a?(Array) &&
           double(3.5).(v[2][0]) && v[2][1] == [true] && bin(0).(v[3]) && v.size == 4 }],
  ["array []", exact([])],
].freeze

def returned
  inner = Xchan::Chan.new(1)
  inner.put(42)
  [true, false, 0, -1, INT64_MIN, INT64_MAX, 1.5, -0.0, 1e308, Float::NAN, "hello", UTF8_TEXT, "",
   "a\0b", [0, 0xff, 0, 0x7f].pack("C*"), "".b, inner]
end

abort "usage: ruby interop.rb LIBINTEROP.so" unless ARGV.size == 1
lib = ARGV[0]
failures = []
out = Xchan::Chan.new
done = Xchan::Native.thread(lib, "produce", "v(c)", out)
complete = EXPECTED.each_with_index.all? do |(what, ok), i|
  v = out.take(timeout: TIMEOUT)
  if v.nil?
    failures << "C->ruby item #{i} (#{what}): channel closed early"
    next false
  end
  failures << "C->ruby item #{i} (#{what}): got #{v.inspect} (#{v.class})" unless ok.(v)
  true
end
if complete && !(extra = out.take(timeout: TIMEOUT)).nil?
  failures << "C->ruby: extra value after the sequence: #{extra.inspect}"
end
done.take(timeout: TIMEOUT)
puts "  C->ruby: #{EXPECTED.size} values checked"

back = Xchan::Chan.new
verdict = Xchan::Native.thread(lib, "consume", "s(c)", back)
returned.each { |v| back.put(v, timeout: TIMEOUT) }
back.close
answer = verdict.take(timeout: TIMEOUT)
puts "  ruby->C: consume says #{answer.inspect}"
failures << "ruby->C: #{answer.inspect}" unless answer.is_a?(String) && answer.start_with?("ok ")
failures.each { |f| puts "  #{f}" }
puts "ruby (#{RUBY_VERSION}): #{failures.empty? ? 'PASS' : 'FAIL'}"
exit(failures.empty? ? 0 : 1)
