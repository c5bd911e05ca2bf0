// An unmodified program as the client (`tapfault run S -- CMD ARGS`), inside the
// run's namespace, its stdout and stderr kept in files beside the capture.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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

ExternalClient::ExternalClient(boost::asio::io_context&, std::vector<std::string> command,
                               std::filesystem::path out_dir, LineSink sink)
    : command_(std::move(command)), out_dir_(std::move(out_dir)), sink_(std::move(sink)) {
  result_.command = command_;
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
