# frozen_string_literal: true

require_relative "helper"

class TestAlts < Minitest::Test
  include Timing

  def test_priority_takes_the_first_ready_clause
    a = Xchan::Chan.new(1)
    b = Xchan::Chan.new(1)
    a.put(:a)
    b.put(:b)
    assert_equal ["a", a], Xchan.alts([a, b], priority: true)
    assert_equal ["b", b], Xchan.alts([a, b], priority: true)
  end

  def test_put_clause_reports_true_then_false_when_closed
    out = Xchan::Chan.new(1)
    assert_equal [true, out], Xchan.alts([[out, 42]])
    assert_equal 42, out.take
    out.close
    assert_equal [false, out], Xchan.alts([[out, 43]])
  end

  def test_take_from_a_closed_channel_gives_nil
    ch = Xchan::Chan.new
    ch.close
    assert_equal [nil, ch], Xchan.alts([ch])
  end

  def test_default_when_nothing_is_ready
    ch = Xchan::Chan.new
    assert_equal [:none, :default], Xchan.alts([ch, [ch, 1]], default: :none)
    assert_nil ch.poll, "the put clause did not happen"
  end

  def test_timeout_raises_and_timeout_channel_wins
    ch = Xchan::Chan.new
    t = elapsed { assert_raises(Xchan::TimeoutError) { Xchan.alts([ch], timeout: 0.05) } }
    assert_operator t, :>=, 0.045
    to = Xchan.timeout(0.05)
    assert_equal [nil, to], Xchan.alts([ch, to])
  end

  def test_a_blocked_alts_is_completed_by_another_thread
    a = Xchan::Chan.new
    b = Xchan::Chan.new
    feeder = Thread.new { b.put(:from_b) }
    value, chan = Xchan.alts([a, b], timeout: 5)
    assert_equal ["from_b", b], [value, chan]
    feeder.join
  end

  def test_only_the_winning_put_is_delivered
    a = Xchan::Chan.new(1)
    b = Xchan::Chan.new(1)
    100.times do
      _, chan = Xchan.alts([[a, 1], [b, 2]])
      other = chan == a ? b : a
      assert_nil other.poll
      refute_nil chan.poll
    end
  end

  def test_bad_clauses
    ch = Xchan::Chan.new
    assert_raises(ArgumentError) { Xchan.alts([42]) }
    assert_raises(ArgumentError) { Xchan.alts([[ch, 1, 2]]) }
    assert_raises(Xchan::InvalidArgument) { Xchan.alts([]) }
    assert_raises(Xchan::NilValueError) { Xchan.alts([[ch, nil]]) }
    assert_raises(Xchan::WrongKindError) { Xchan.alts([[ch, Object.new]]) }
  end
end
