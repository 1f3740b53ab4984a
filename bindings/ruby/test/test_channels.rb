# frozen_string_literal: true

require_relative "helper"

class TestChannels < Minitest::Test
  include Timing

  def test_buffered_put_take_in_order
    ch = Xchan::Chan.new(3)
    assert ch.put(1)
    ch << 2 << 3
    assert_equal 3, ch.count
    assert_equal [1, 2, 3], [ch.take, ch.take, ch.take]
  end

  def test_unbuffered_rendezvous_with_a_ruby_thread
    ch = Xchan::Chan.new
    producer = Thread.new { (1..100).each { |i| ch.put(i) }; ch.close }
    assert_equal (1..100).sum, ch.sum
    producer.join
  end

  def test_every_value_kind_round_trips
    ch = Xchan::Chan.new(16)
    inner = Xchan::Chan.new(1)
    values = [true, false, 0, -1, 2**63 - 1, -2**63, 1.5, "héllo", "\x00\xff".b,
              [1, "two", [3.0, false]], inner]
    values.each { |v| assert ch.offer(v), "offer #{v.inspect}" }
    values.each do |want|
      got = ch.poll
      assert_equal want, got
      assert_equal want.class, got.class
    end
    assert_equal Encoding::UTF_8, (ch.put("é") && ch.take).encoding
    assert_equal Encoding::BINARY, (ch.put("\xff".b) && ch.take).encoding
    assert_equal "sym", (ch.put(:sym) && ch.take)
  end

  def test_a_channel_taken_off_a_channel_is_the_same_channel
    carrier = Xchan::Chan.new(1)
    inner = Xchan::Chan.new(1)
    carrier.put(inner)
    got = carrier.take
    got.put(:through_the_copy)
    assert_equal "through_the_copy", inner.take
    assert_equal inner, got
    assert_equal inner.hash, got.hash
  end

  def test_bad_values_raise_and_leave_the_channel_alone
    ch = Xchan::Chan.new(1)
    assert_raises(Xchan::NilValueError) { ch.put(nil) }
    assert_raises(Xchan::WrongKindError) { ch.put(Object.new) }
    assert_raises(Xchan::WrongKindError) { ch.put({ a: 1 }) }
    assert_raises(Xchan::InvalidArgument) { ch.put(2**64) }
    assert_raises(Xchan::InvalidArgument) { ch.put("\xff".dup.force_encoding("UTF-8")) }
    assert_raises(Xchan::InvalidArgument) { ch.put([1, nil]) }
    assert_equal 0, ch.count
    assert ch.put(1)
  end

  def test_close_semantics
    ch = Xchan::Chan.new(2)
    ch.put(:a)
    ch.put(:b)
    ch.close
    ch.close # idempotent
    assert ch.closed?
    refute ch.put(:c), "put on a closed channel gives false"
    assert_equal false, ch.offer(:c)
    assert_equal "a", ch.take, "buffered values stay takeable"
    assert_equal "b", ch.poll
    assert_nil ch.take
    assert_nil ch.poll
    assert_nil ch.take(timeout: 0.01)
  end

  def test_close_wakes_a_blocked_taker
    ch = Xchan::Chan.new
    taker = Thread.new { ch.take(timeout: 10) }
    Thread.pass until taker.status == "sleep" || taker.status == "run"
    ch.close
    assert taker.join(5), "taker woke"
    assert_nil taker.value
  end

  def test_offer_poll_never_wait
    ch = Xchan::Chan.new
    assert_nil ch.offer(1), "unbuffered, no taker: not now"
    assert_nil ch.poll
    full = Xchan::Chan.new(1)
    assert full.offer(1)
    assert_nil full.offer(2)
  end

  def test_dropping_sliding_and_promise_buffers
    d = Xchan::Chan.new(2, buffer: :dropping)
    s = Xchan::Chan.new(2, buffer: :sliding)
    (1..4).each { |i| d.put(i); s.put(i) }
    assert_equal [1, 2], [d.poll, d.poll]
    assert_equal [3, 4], [s.poll, s.poll]
    p = Xchan.promise
    p.put(:first)
    p.put(:second)
    assert_equal %w[first first], [p.take, p.take]
    assert_raises(ArgumentError) { Xchan::Chan.new(2, buffer: :nope) }
  end

  def test_take_timeout_raises_after_the_deadline
    ch = Xchan::Chan.new
    t = elapsed { assert_raises(Xchan::TimeoutError) { ch.take(timeout: 0.05) } }
    assert_operator t, :>=, 0.045
    assert_operator t, :<, 5
    assert_raises(Xchan::TimeoutError) { ch.put(1, timeout: 0.01) }
    assert_nil ch.poll, "the timed-out put left nothing behind"
  end

  def test_timeout_channel_closes_after_its_time
    t = elapsed { assert_nil Xchan.timeout(0.05).take(timeout: 5) }
    assert_operator t, :>=, 0.045
    assert_operator t, :<, 5
  end

  # A thread blocked in take must not hold the GVL: the main thread keeps
  # running Ruby code, then feeds it.
  def test_blocking_take_releases_the_gvl
    ch = Xchan::Chan.new
    taker = Thread.new { ch.take(timeout: 3) }
    t = elapsed do
      spins = 0
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 0.2
      spins += 1 while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      assert_operator spins, :>, 1000
      ch.put(:fed)
      assert_equal "fed", taker.value
    end
    assert_operator t, :<, 2, "the main thread ran while the taker waited"
  end

  class Stop < StandardError; end

  def test_thread_raise_interrupts_a_blocked_take
    ch = Xchan::Chan.new
    ready = Queue.new
    taker = Thread.new { ready << true; ch.take }
    taker.report_on_exception = false
    ready.pop
    wait_until(ch, pending_takes: 1) # the taker waits in the core
    t = elapsed do
      taker.raise(Stop)
      assert_raises(Stop) { taker.join(5) }
    end
    assert_operator t, :<, 1, "the interrupt fired the wait's cancel token"
    assert_equal 0, ch.info.pending_takes
    assert_nil ch.offer(1), "no taker is left waiting"
  end

  def test_thread_raise_interrupts_a_blocked_put_and_keeps_nothing
    ch = Xchan::Chan.new
    ready = Queue.new
    putter = Thread.new { ready << true; ch.put("never taken") }
    putter.report_on_exception = false
    ready.pop
    wait_until(ch, pending_puts: 1)
    putter.raise(Stop)
    assert_raises(Stop) { putter.join(5) }
    assert_nil ch.poll, "an interrupted put transferred nothing"
  end

  # Waits (polling the channel's state, never sleeping blind) until
  # info matches.
  def wait_until(ch, within: 5, **fields)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + within
    until fields.all? { |k, v| ch.info.public_send(k) == v }
      flunk "#{ch.inspect} never reached #{fields}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      Thread.pass
    end
  end

  # Thread#wakeup runs the unblocking function without an exception: the
  # wait resumes and still gets its value.
  def test_a_spurious_wakeup_resumes_the_wait
    ch = Xchan::Chan.new
    taker = Thread.new { ch.take(timeout: 10) }
    wait_until(ch, pending_takes: 1)
    3.times { taker.wakeup; Thread.pass }
    wait_until(ch, pending_takes: 1)
    ch.put(:still_waiting)
    assert_equal "still_waiting", taker.value
  end

  def test_thread_kill_ends_a_blocked_take
    ch = Xchan::Chan.new
    taker = Thread.new { ch.take }
    wait_until(ch, pending_takes: 1)
    taker.kill
    assert taker.join(5)
    wait_until(ch, pending_takes: 0)
  end

  def test_blocked_putters_are_served_in_arrival_order
    ch = Xchan::Chan.new
    first = Thread.new { ch.put(:first) }
    wait_until(ch, pending_puts: 1)
    second = Thread.new { ch.put(:second) }
    wait_until(ch, pending_puts: 2)
    assert_equal %w[first second], [ch.take, ch.take]
    assert [first, second].all? { |t| t.join(5) && t.value }
  end

  def test_info_snapshot
    ch = Xchan::Chan.new(3, buffer: :sliding)
    ch.put(1)
    h = ch.info.to_h
    assert_equal({ buf_kind: Xchan::Raw::BUF_SLIDING, capacity: 3, count: 1, closed: 0,
                   pending_puts: 0, pending_takes: 0 }, h.slice(:buf_kind, :capacity, :count, :closed, :pending_puts, :pending_takes))
    assert_equal ch.id, h[:id]
  end

  def test_many_ruby_threads_share_a_channel
    ch = Xchan::Chan.new(8)
    producers = 4.times.map do |p|
      Thread.new { 250.times { |i| ch.put(p * 1000 + i) } }
    end
    closer = Thread.new { producers.each(&:join); ch.close }
    got = ch.to_a
    closer.join
    assert_equal 1000, got.size
    assert_equal 1000, got.uniq.size
  end
end
