# frozen_string_literal: true

# The Ruby suite: ruby bindings/ruby/test/run.rb (ci/test.sh stage `swig`).
Dir[File.join(__dir__, "test_*.rb")].sort.each { |f| require f }
