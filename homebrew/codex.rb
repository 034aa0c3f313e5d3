# Template of the Homebrew cask for macOS; `cargo xtask dist` fills in the {{…}} fields from the
# release manifest and writes dist/homebrew/Casks/codex.rb. A cask has one download per arch and
# every release archive holds one program, so codex-exec-server is its own cask, a dependency.
# A release's programs are Developer ID signed and notarized, so Gatekeeper accepts them from
# quarantine: no quarantine workaround belongs here (docs/homebrew.md).
cask "codex" do
  arch arm: "aarch64", intel: "x86_64"

  version "{{version}}"
  sha256 arm:   "{{sha256 codex aarch64-apple-darwin}}",
         intel: "{{sha256 codex x86_64-apple-darwin}}"

  url "{{base_url}}/download/v#{version}/codex-#{arch}-apple-darwin.tar.gz"
  name "Codex"
  desc "Coding agent that runs in your terminal"
  homepage "{{homepage}}"

  livecheck do
    url :url
    strategy :github_latest
  end

  depends_on cask: "codex-exec-server"

  binary "codex-#{arch}-apple-darwin", target: "codex"

  zap trash: "~/.codex"
end
