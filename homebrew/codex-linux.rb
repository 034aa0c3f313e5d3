# Template of the Homebrew formula for Linux (casks are macOS-only); `cargo xtask dist` fills in
# the {{…}} fields from the release manifest and writes dist/homebrew/Formula/codex.rb. The
# programs are static musl builds, so nothing is compiled and nothing else is needed.
class Codex < Formula
  desc "Coding agent that runs in your terminal"
  homepage "{{homepage}}"
  version "{{version}}"
  license "Apache-2.0"

  depends_on :linux

  on_intel do
    url "{{url codex x86_64-unknown-linux-musl}}"
    sha256 "{{sha256 codex x86_64-unknown-linux-musl}}"

    resource "codex-exec-server" do
      url "{{url codex-exec-server x86_64-unknown-linux-musl}}"
      sha256 "{{sha256 codex-exec-server x86_64-unknown-linux-musl}}"
    end
  end

  on_arm do
    url "{{url codex aarch64-unknown-linux-musl}}"
    sha256 "{{sha256 codex aarch64-unknown-linux-musl}}"

    resource "codex-exec-server" do
      url "{{url codex-exec-server aarch64-unknown-linux-musl}}"
      sha256 "{{sha256 codex-exec-server aarch64-unknown-linux-musl}}"
    end
  end

  livecheck do
    url :stable
    strategy :github_latest
  end

  def install
    triple = Hardware::CPU.arm? ? "aarch64-unknown-linux-musl" : "x86_64-unknown-linux-musl"
    bin.install "codex-#{triple}" => "codex"
    resource("codex-exec-server").stage do
      bin.install "codex-exec-server-#{triple}" => "codex-exec-server"
    end
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/codex --version")
    assert_match version.to_s, shell_output("#{bin}/codex-exec-server --version")
  end
end
