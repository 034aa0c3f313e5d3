# Loads the generated Homebrew casks and formula with a minimal stand-in for Homebrew's DSL, once
# per CPU (arm, intel), and checks what each would download and install against the release
# manifest: every url and sha256, the binary names and install targets, livecheck and zap.
#
# Usage: ruby harness.rb MANIFEST_JSON BASE_URL CASK_CODEX CASK_EXEC_SERVER FORMULA
# Prints one line per check; exits 1 at the first mismatch.
require "json"

manifest_path, BASE_URL, *files = ARGV
abort "usage: ruby harness.rb MANIFEST BASE_URL CASK CASK FORMULA" unless files.length == 3
MANIFEST = JSON.parse(File.read(manifest_path))
CASK_CODEX, CASK_EXEC_SERVER, FORMULA = files
ARCHES = { arm: "aarch64", intel: "x86_64" }.freeze

def fail!(message)
  warn "mismatch: #{message}"
  exit 1
end

def check(what, actual, expected)
  fail!("#{what}: #{actual.inspect}, expected #{expected.inspect}") unless actual == expected
  puts "ok #{what}"
end

def artifact(binary, triple)
  MANIFEST["artifacts"].find { |a| a["binary"] == binary && a["target"] == triple } ||
    fail!("the manifest has no #{binary} for #{triple}")
end

def expected_url(a)
  "#{BASE_URL}/download/#{MANIFEST["tag"]}/#{a["archive"]["name"]}"
end

# Homebrew's cask DSL, as far as our casks use it, for one simulated CPU.
class CaskDSL
  attr_reader :record

  def initialize(cpu)
    @cpu = cpu
    @record = { binaries: [], depends: [] }
  end

  def arch(arm: nil, intel: nil)
    return @arch if arm.nil? && intel.nil?

    @arch = @cpu == :arm ? arm : intel
  end

  def version(value = nil)
    return @record[:version] if value.nil?

    @record[:version] = value
  end

  def sha256(value = nil, arm: nil, intel: nil)
    @record[:sha256] = value || (@cpu == :arm ? arm : intel)
  end

  def url(value, **_options)
    @record[:url] = value
  end

  def livecheck(&block)
    @record[:livecheck] = LivecheckDSL.new.tap { |l| l.instance_eval(&block) }.record
  end

  def depends_on(cask: nil, **_other)
    @record[:depends] << cask if cask
  end

  def binary(source, target: nil)
    @record[:binaries] << [source, target]
  end

  def zap(trash: nil, **_other)
    @record[:zap] = Array(trash)
  end

  def name(value) = @record[:name] = value
  def desc(value) = @record[:desc] = value
  def homepage(value) = @record[:homepage] = value
end

# livecheck blocks: only what they name.
class LivecheckDSL
  attr_reader :record

  def initialize
    @record = {}
  end

  def url(value) = @record[:url] = value
  def strategy(value) = @record[:strategy] = value
  def cask(value) = @record[:cask] = value
end

def load_cask(path, cpu)
  dsl = CaskDSL.new(cpu)
  token = nil
  Object.send(:define_method, :cask) do |name, &block|
    token = name
    dsl.instance_eval(&block)
  end
  load path
  [token, dsl.record]
end

%w[codex codex-exec-server].zip([CASK_CODEX, CASK_EXEC_SERVER]).each do |binary, path|
  ARCHES.each do |cpu, arch|
    triple = "#{arch}-apple-darwin"
    a = artifact(binary, triple)
    token, r = load_cask(path, cpu)
    where = "cask #{token} on #{cpu}"
    check("#{where}: token", token, binary)
    check("#{where}: version", r[:version], MANIFEST["version"])
    check("#{where}: url", r[:url], expected_url(a))
    check("#{where}: sha256", r[:sha256], a["archive"]["sha256"])
    check("#{where}: binary", r[:binaries], [[a["entry"]["name"], binary]])
    fail!("#{where}: no livecheck") if r[:livecheck].nil? || r[:livecheck].empty?
    if binary == "codex"
      check("#{where}: zap", r[:zap], ["~/.codex"])
      check("#{where}: depends_on", r[:depends], ["codex-exec-server"])
    end
  end
end

# Homebrew's formula DSL, as far as our formula uses it.
module Hardware
  module CPU
    class << self
      attr_accessor :simulated

      def arm? = simulated == :arm
      def intel? = simulated == :intel
    end
  end
end

# A resource: its url and sha256.
class ResourceDSL
  attr_reader :record

  def initialize
    @record = {}
  end

  def url(value, **_options) = @record[:url] = value
  def sha256(value) = @record[:sha256] = value
end

# The class formulae inherit from: records the class-level DSL, runs `install` against stubs.
class Formula
  class << self
    attr_reader :record

    def reset!
      @record = { resources: {} }
    end

    def inherited(subclass)
      super
      subclass.reset!
    end

    def on_arm(&block) = (block.call if Hardware::CPU.arm?)
    def on_intel(&block) = (block.call if Hardware::CPU.intel?)
    def on_linux(&block) = block.call
    def on_macos(&_block) = nil
    def url(value, **_options) = @record[:url] = value
    def sha256(value) = @record[:sha256] = value
    def resource(name, &block)
      @record[:resources][name] = ResourceDSL.new.tap { |r| r.instance_eval(&block) }.record
    end

    def livecheck(&block)
      @record[:livecheck] = LivecheckDSL.new.tap { |l| l.instance_eval(&block) }.record
    end

    def version(value = nil)
      return @record[:version] if value.nil?

      @record[:version] = value
    end

    def depends_on(value) = (@record[:depends] ||= []) << value
    def desc(value) = @record[:desc] = value
    def homepage(value) = @record[:homepage] = value
    def license(value) = @record[:license] = value
    def test(&block) = @record[:test] = block
  end

  # `bin.install "a" => "b"`: records [source, target] pairs.
  class Bin
    attr_reader :installed

    def initialize
      @installed = []
    end

    def install(mapping)
      mapping.each { |from, to| @installed << [from, to] }
    end
  end

  # `resource(name).stage { … }` runs the block.
  class Staged
    def stage = yield
  end

  def bin = (@bin ||= Bin.new)
  def resource(_name) = Staged.new
end

ARCHES.each do |cpu, arch|
  Hardware::CPU.simulated = cpu
  Object.send(:remove_const, :Codex) if Object.const_defined?(:Codex)
  load FORMULA
  r = Codex.record
  triple = "#{arch}-unknown-linux-musl"
  codex = artifact("codex", triple)
  server = artifact("codex-exec-server", triple)
  where = "formula on #{cpu}"
  check("#{where}: version", r[:version], MANIFEST["version"])
  check("#{where}: depends_on", r[:depends], [:linux])
  check("#{where}: url", r[:url], expected_url(codex))
  check("#{where}: sha256", r[:sha256], codex["archive"]["sha256"])
  check("#{where}: resource url", r[:resources]["codex-exec-server"][:url], expected_url(server))
  check("#{where}: resource sha256", r[:resources]["codex-exec-server"][:sha256], server["archive"]["sha256"])
  fail!("#{where}: no livecheck") if r[:livecheck].nil? || r[:livecheck].empty?
  fail!("#{where}: no test block") if r[:test].nil?
  formula = Codex.new
  formula.install
  check(
    "#{where}: install",
    formula.bin.installed,
    [[codex["entry"]["name"], "codex"], [server["entry"]["name"], "codex-exec-server"]],
  )
end
puts "all checks passed"
