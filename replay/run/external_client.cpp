// An unmodified program as the client (`tapfault run S -- CMD ARGS`), inside the
// run's namespace, its stdout and stderr kept in files beside the capture.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runner_parts.hpp"

namespace tapfault::replay {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ClientIdentityChoice choose_client_identity(bool as_root, unsigned euid, const char* sudo_uid,
                                            const char* sudo_gid, const char* sudo_user) {
  if (euid != 0 || as_root) return {};
  auto parse_id = [](const char* text) -> std::optional<unsigned> {
    if (!text || !*text) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    unsigned long v = std::strtoul(text, &end, 10);
    if (errno || *end || v > 0xfffffffeul) return std::nullopt;
    return static_cast<unsigned>(v);
  };
  if (sudo_uid && *sudo_uid) {
    auto uid = parse_id(sudo_uid);
    if (!uid) return {std::nullopt, std::string("SUDO_UID=") + sudo_uid + " is not a user id"};
    if (*uid != 0) {
      ClientIdentity id{*uid, *uid, sudo_user ? sudo_user : ""};
      if (sudo_gid && *sudo_gid) {
        auto gid = parse_id(sudo_gid);
        if (!gid) return {std::nullopt, std::string("SUDO_GID=") + sudo_gid + " is not a group id"};
        id.gid = *gid;
      } else if (const passwd* pw = getpwuid(*uid)) {
        id.gid = pw->pw_gid;
      }
      return {id, {}};
    }
  }
  return {std::nullopt,
          "the external client would run as root: start tapfault through sudo (the client then runs as the "
          "user who ran sudo) or pass --as-root"};
}

ExternalClient::ExternalClient(boost::asio::io_context&, std::vector<std::string> command,
                               std::filesystem::path out_dir, std::optional<ClientIdentity> identity, LineSink sink)
    : command_(std::move(command)), out_dir_(std::move(out_dir)), identity_(std::move(identity)), sink_(std::move(sink)) {
  result_.command = command_;
  result_.uid = identity_ ? identity_->uid : geteuid();
  result_.gid = identity_ ? identity_->gid : getegid();
}

ExternalClient::~ExternalClient() { stop(); }

void ExternalClient::start() {
  std::string out = (out_dir_ / "client.stdout").string();
  std::string err = (out_dir_ / "client.stderr").string();
  std::vector<char*> argv;
  for (auto& a : command_) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (o >= 0) dup2(o, 1);
    if (e >= 0) dup2(e, 2);
    if (null >= 0) dup2(null, 0);
    // Drop to the invoking user: groups first, then the group, then the user (after which
    // none of the others could be changed). The namespace stays: it belongs to the process.
    if (identity_) {
      const gid_t gid = identity_->gid;
      int rc = identity_->user.empty() ? setgroups(1, &gid) : initgroups(identity_->user.c_str(), gid);
      if (rc != 0 || setgid(gid) != 0 || setuid(identity_->uid) != 0) {
        dprintf(2, "tapfault: cannot run %s as uid %u gid %u: %s\n", argv[0], identity_->uid, identity_->gid,
                std::strerror(errno));
        _exit(126);
      }
    }
    execvp(argv[0], argv.data());
    dprintf(2, "tapfault: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  if (sink_) sink_("started " + command_.front() + " (pid " + std::to_string(pid_) + ")");
}

bool ExternalClient::done() {
  if (exited_ || pid_ <= 0) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exited_ = true;
  if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
  if (sink_) sink_("exited with code " + std::to_string(result_.exit_code));
  return true;
}

void ExternalClient::stop() {
  if (pid_ > 0 && !done()) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
  }
}

ExternalResult ExternalClient::result() const {
  ExternalResult r = result_;
  r.stdout_text = slurp(out_dir_ / "client.stdout");
  r.stderr_text = slurp(out_dir_ / "client.stderr");
  return r;
}

}  // namespace tapfault::replay
