# frozen_string_literal: true

# Shared set-up of the Ruby suite: the built extension and libsensor.so come
# from the build tree (XCHAN_BUILD_DIR, default build/ at the repository
# root); lib/xchan.rb from the source tree.
ROOT = File.expand_path("../../..", __dir__)
BUILD = ENV.fetch("XCHAN_BUILD_DIR", File.join(ROOT, "build"))
$LOAD_PATH.unshift(File.join(BUILD, "bindings/ruby/lib"))
$LOAD_PATH.unshift(File.join(ROOT, "bindings/ruby/lib"))
SENSOR = ENV.fetch("XCHAN_SENSOR_LIB", File.join(BUILD, "tests/cross/native/libsensor.so"))

require "minitest/autorun"
require "xchan"

module Timing
  def elapsed
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    yield
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
  end
end
