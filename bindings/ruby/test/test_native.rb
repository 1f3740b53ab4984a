# frozen_string_literal: true

require_relative "helper"

# Channels shared with C threads: libsensor.so's functions run on the core's
# go / thread / io_thread workers through the libffi runner.
class TestNative < Minitest::Test
  N = Xchan::Native

  def test_stream_into_ruby_on_every_workload
    %i[go thread io_thread].each do |how|
      ch = Xchan::Chan.new
      result = N.public_send(how, SENSOR, "stream", "v(ci)", ch, 100)
      assert_equal (1..100).to_a, ch.to_a, how.to_s
      assert_nil result.take(timeout: 5), "void: the result channel closes empty"
    end
  end

  def test_ruby_produces_and_c_consumes
    ch = Xchan::Chan.new(4)
    result = N.thread(SENSOR, "sum", "i(c)", ch)
    (1..1000).each { |i| ch.put(i) }
    ch.close
    assert_equal 500_500, result.take(timeout: 10)
  end

  def test_a_pipeline_of_c_and_ruby
    src = Xchan::Chan.new(8)
    doubled = Xchan::Chan.new
    N.go(SENSOR, "stream", "v(ci)", src, 50)
    relay = N.io_thread(SENSOR, "relay_double", "i(cc)", src, doubled)
    assert_equal (1..50).map { |i| 2 * i }, doubled.to_a
    assert_equal 50, relay.take(timeout: 5)
  end

  def test_return_kinds
    assert_equal 6.0, N.go(SENSOR, "scale", "d(dd)", 1.5, 4).take(timeout: 5)
    assert_equal true, N.thread(SENSOR, "is_even", "b(i)", 8).take(timeout: 5)
    assert_equal "odd", N.io_thread(SENSOR, "parity", "s(i)", 7).take(timeout: 5)
    assert_equal 6, N.thread(SENSOR, "text_length", "i(s)", "héllo").take(timeout: 5)
    counter = N.thread(SENSOR, "counter", "c(i)", 3).take(timeout: 5)
    assert_kind_of Xchan::Chan, counter
    assert_equal [1, 2, 3], counter.to_a
    assert_nil N.thread(SENSOR, "nothing", "s()").take(timeout: 5)
  end

  def test_native_pointers_travel_as_opaque_values
    cell = N.thread(SENSOR, "cell_new", "p(i)", 42).take(timeout: 5)
    assert_kind_of Xchan::Raw::Opaque, cell
    assert_equal "box", cell.kind
    ch = Xchan::Chan.new(1)
    ch.put(cell)
    assert_equal 42, N.go(SENSOR, "cell_read", "i(p)", ch.take).take(timeout: 5)
    assert_nil N.thread(SENSOR, "cell_free", "v(p)", cell).take(timeout: 5)
  end

  def test_bad_native_calls_raise_before_anything_runs
    ch = Xchan::Chan.new
    e = assert_raises(Xchan::NativeLoadError) { N.go("/nonexistent/libx.so", "stream", "v(ci)", ch, 1) }
    assert_match %r{cannot load library "/nonexistent/libx.so"}, e.message
    e = assert_raises(Xchan::NativeLoadError) { N.go(SENSOR, "no_such", "v(ci)", ch, 1) }
    assert_match(/no symbol "no_such"/, e.message)
    e = assert_raises(Xchan::InvalidArgument) { N.thread(SENSOR, "stream", "v(cx)", ch, 1) }
    assert_match(/signature "v\(cx\)"/, e.message)
    e = assert_raises(Xchan::InvalidArgument) { N.thread(SENSOR, "stream", "v(ci)", ch) }
    assert_match(/takes 2 arguments, got 1/, e.message)
    e = assert_raises(Xchan::WrongKindError) { N.thread(SENSOR, "stream", "v(ci)", ch, "1") }
    assert_match(/argument 2 .* must be int, got string/, e.message)
    assert_equal 15, e.code
    assert_kind_of Xchan::Error, e
    assert_raises(Xchan::WrongKindError) { N.thread(SENSOR, "stream", "v(ci)", ch, Object.new) }
    assert_nil ch.poll, "nothing ran"
  end
end
