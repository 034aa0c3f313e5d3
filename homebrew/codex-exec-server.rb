# Template of the Homebrew cask for codex-exec-server on macOS (see codex.rb); written to
# dist/homebrew/Casks/codex-exec-server.rb.
cask "codex-exec-server" do
  arch arm: "aarch64", intel: "x86_64"

  version "{{version}}"
  sha256 arm:   "{{sha256 codex-exec-server aarch64-apple-darwin}}",
         intel: "{{sha256 codex-exec-server x86_64-apple-darwin}}"

  url "{{base_url}}/download/v#{version}/codex-exec-server-#{arch}-apple-darwin.tar.gz"
  name "Codex exec-server"
  desc "Remote process runner for the Codex coding agent"
  homepage "{{homepage}}"

  livecheck do
    cask "codex"
  end

  binary "codex-exec-server-#{arch}-apple-darwin", target: "codex-exec-server"
end
