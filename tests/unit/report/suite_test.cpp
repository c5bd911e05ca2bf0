// tapfault suite: discovery, filters, shards, the realtime rule, the summary table and the
// JUnit XML; and run_suite() itself with a fake `tapfault` (a shell script that passes,
// fails with a report, rejects its input, crashes or hangs by the scenario's name), so the
// process handling is tested without privileges or namespaces.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "support/xml_check.hpp"
#include "tapfault/replay/report/suite.hpp"
#include "support/test_files.hpp"

namespace tapfault::testing {
namespace {

using namespace tapfault::replay;
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string scenario_yaml(const std::string& name, const std::string& tags = "[]", bool client = true) {
  std::string y = "name: " + name + "\ntags: " + tags + "\nduration: 2s\nnetwork:\n  family: ipv4\npeer:\n  port: 8080\n";
  if (client) y += "client:\n  actions:\n    - connect\n";
  return y;
}

// A folder of scenarios: nested, a parse error, a realtime one, one without a client.
// (scratch_dir() empties the test's folder: call it once per test.)
fs::path scenario_tree() {
  fs::path dir = scratch_dir() / "scenarios";
  write(dir / "zeta.yaml", scenario_yaml("zeta", "[window, ipv4]"));
  write(dir / "alpha.yaml", scenario_yaml("alpha", "[icmp, ipv4]"));
  write(dir / "faults" / "silent.yaml", scenario_yaml("silent-peer", "[icmp, silent]"));
  write(dir / "faults" / "slow.yaml", scenario_yaml("slow-one", "[rto, realtime]"));
  write(dir / "broken.yaml", "name: broken\nnetwork:\n  family: ipv5\n");
  write(dir / "external.yaml", scenario_yaml("external", "[external]", false));
  write(dir / "notes.txt", "not a scenario");
  write(dir / "faults" / "response.yml", "not .yaml either");
  return dir;
}

std::vector<std::string> names(const std::vector<SuiteScenario>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(s.name);
  return out;
}

TEST(SuiteDiscovery, FindsEveryYamlRecursivelySortedByRelativePath) {
  auto all = discover_scenarios(scenario_tree());
  EXPECT_EQ(names(all), (std::vector<std::string>{"alpha", "broken", "external", "faults/silent", "faults/slow", "zeta"}));
  EXPECT_EQ(all[3].scenario_name, "silent-peer");
  EXPECT_EQ(all[3].tags, (std::vector<std::string>{"icmp", "silent", "ipv4"})) << "each run is tagged with its family";
  EXPECT_EQ(all[3].duration, std::chrono::seconds(2));
  EXPECT_TRUE(all[4].realtime());
  EXPECT_FALSE(all[2].has_client);
}

// A file that lists both families is two runs, each named after the file plus its family.
TEST(SuiteDiscovery, AFileListingTwoFamiliesIsOneRunPerFamily) {
  fs::path dir = scratch_dir() / "scenarios";
  write(dir / "lost-peer" / "lost-peer.yaml",
        "name: lost-peer\ntags: [rto]\nduration: {ipv4: 2s, ipv6: 3s}\nnetwork:\n  family: [ipv4, ipv6]\n"
        "peer:\n  port: 8080\nclient: {}\n");
  write(dir / "lost-peer" / "one.yaml", scenario_yaml("one-ipv4"));
  write(dir / "lost-peer" / "twin.yaml", "network:\n  family: [ipv4, ipv6]\n  mtu: {ipv4: 1500}\npeer:\n  port: 80\n");
  auto all = discover_scenarios(dir);
  EXPECT_EQ(names(all), (std::vector<std::string>{"lost-peer/lost-peer-ipv4", "lost-peer/lost-peer-ipv6",
                                                  "lost-peer/one", "lost-peer/twin"}));
  EXPECT_EQ(all[0].family, "ipv4");
  EXPECT_EQ(all[1].family, "ipv6");
  EXPECT_EQ(all[2].family, "") << "a file of one family runs without --family";
  EXPECT_EQ(all[0].scenario_name, "lost-peer-ipv4");
  EXPECT_EQ(all[1].scenario_name, "lost-peer-ipv6");
  EXPECT_EQ(all[0].duration, std::chrono::seconds(2));
  EXPECT_EQ(all[1].duration, std::chrono::seconds(3));
  EXPECT_EQ(all[1].tags, (std::vector<std::string>{"rto", "ipv6"}));
  EXPECT_NE(all[3].parse_error.find("twin.yaml:3:8: network.mtu: no value for ipv6"), std::string::npos)
      << "a file that fails for one family is one ERROR row: " << all[3].parse_error;
  SuiteSelection v6;
  v6.filters = {"tag:ipv6"};
  EXPECT_EQ(names(select_scenarios(all, v6).scenarios), (std::vector<std::string>{"lost-peer/lost-peer-ipv6"}));
}

TEST(SuiteDiscovery, ParseErrorIsKeptWithItsMessage) {
  auto all = discover_scenarios(scenario_tree());
  ASSERT_EQ(all[1].name, "broken");
  EXPECT_NE(all[1].parse_error.find("broken.yaml:3:"), std::string::npos) << all[1].parse_error;
  EXPECT_NE(all[1].parse_error.find("network.family"), std::string::npos) << all[1].parse_error;
}

TEST(SuiteDiscovery, MissingFolderThrows) {
  EXPECT_THROW(discover_scenarios(scratch_dir() / "nope"), std::runtime_error);
}

TEST(SuiteSelection, RealtimeAndClientlessScenariosAreLeftOutByDefault) {
  auto sel = select_scenarios(discover_scenarios(scenario_tree()), {});
  EXPECT_EQ(names(sel.scenarios), (std::vector<std::string>{"alpha", "broken", "faults/silent", "zeta"}));
  EXPECT_EQ(sel.left_out_realtime, 1u);
  EXPECT_EQ(sel.left_out_external, 1u);
  SuiteSelection with_realtime;
  with_realtime.realtime = true;
  EXPECT_EQ(select_scenarios(discover_scenarios(scenario_tree()), with_realtime).scenarios.size(), 5u);
}

TEST(SuiteSelection, FilterMatchesNameSubstringOrExactTag) {
  auto all = discover_scenarios(scenario_tree());
  SuiteSelection by_name;
  by_name.filters = {"silent"};  // the scenario's `name:` "silent-peer" and its path
  EXPECT_EQ(names(select_scenarios(all, by_name).scenarios), (std::vector<std::string>{"faults/silent"}));
  SuiteSelection by_path;
  by_path.filters = {"faults/"};
  by_path.realtime = true;
  EXPECT_EQ(names(select_scenarios(all, by_path).scenarios), (std::vector<std::string>{"faults/silent", "faults/slow"}));
  SuiteSelection by_tag;
  by_tag.filters = {"tag:icmp"};
  EXPECT_EQ(names(select_scenarios(all, by_tag).scenarios), (std::vector<std::string>{"alpha", "faults/silent"}));
  SuiteSelection tag_is_exact;
  tag_is_exact.filters = {"tag:icm"};
  EXPECT_TRUE(select_scenarios(all, tag_is_exact).scenarios.empty());
  SuiteSelection any_of;
  any_of.filters = {"tag:window", "alpha"};
  EXPECT_EQ(names(select_scenarios(all, any_of).scenarios), (std::vector<std::string>{"alpha", "zeta"}));
}

TEST(SuiteSelection, ShardsAreDisjointAndCoverEverything) {
  auto all = discover_scenarios(scenario_tree());
  std::multiset<std::string> seen;
  for (int i = 1; i <= 3; ++i) {
    SuiteSelection s;
    s.shard = Shard{i, 3};
    auto sel = select_scenarios(all, s);
    for (const auto& n : names(sel.scenarios)) seen.insert(n);
    EXPECT_EQ(sel.scenarios.size() + sel.left_out_shard, 4u);
  }
  EXPECT_EQ(seen, (std::multiset<std::string>{"alpha", "broken", "faults/silent", "zeta"}));
  SuiteSelection second;
  second.shard = Shard{2, 3};  // every 3rd from the 2nd: broken
  EXPECT_EQ(names(select_scenarios(all, second).scenarios), (std::vector<std::string>{"broken"}));
}

TEST(SuiteSelection, ParseShard) {
  ASSERT_TRUE(parse_shard("2/4"));
  EXPECT_EQ(parse_shard("2/4")->index, 2);
  EXPECT_EQ(parse_shard("2/4")->count, 4);
  EXPECT_TRUE(parse_shard("1/1"));
  for (const char* bad : {"0/4", "5/4", "2", "/4", "2/", "a/b", "-1/2", "2/4/6", ""}) EXPECT_FALSE(parse_shard(bad)) << bad;
}

// A stand-in for `tapfault run FILE --out DIR --quiet`, by the file's stem.
fs::path fake_tapfault(const fs::path& dir) {
  fs::path script = dir / "fake-tapfault";
  write(script, R"SH(#!/bin/sh
file=$2; out=$4
case "$(basename "$file" .yaml)" in
  family) [ "$6" = "--family" ] && echo "family $7"; exit 0 ;;
  pass) echo "ok"; exit 0 ;;
  fail) cat > "$out/report.json" <<'EOF'
{"scenario": {"file": "s/fail.yaml"}, "checks": [
  {"field": "expect.state", "expected": "ESTAB", "actual": "ESTAB", "line": 9, "ok": true},
  {"field": "expect.error", "expected": "ETIMEDOUT", "actual": "<none> & \"more\"", "line": 12, "ok": false},
  {"field": "expect.timer", "expected": "persist", "actual": "off", "line": 13, "ok": false}]}
EOF
        echo "fail: FAIL"; exit 1 ;;
  env) echo "tapfault: /dev/net/tun: No such device" >&2; exit 3 ;;
  crash) kill -SEGV $$ ;;
  hang) exec sleep 30 ;;
  pair-*) touch "$out.started"; n=0
          while [ "$(ls "$(dirname "$out")"/*.started | wc -l)" -lt 2 ]; do
            n=$((n+1)); [ $n -gt 500 ] && exit 1; sleep 0.01; done
          exit 0 ;;
esac
exit 9
)SH");
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

SuiteScenario scenario(const std::string& name, std::chrono::nanoseconds duration = std::chrono::seconds(2)) {
  SuiteScenario s;
  s.file = "s/" + name + ".yaml";
  s.name = name;
  s.duration = duration;
  return s;
}

TEST(SuiteRun, ExitCodesBecomeVerdictsWithTheFirstMismatch) {
  fs::path dir = scratch_dir();
  SuiteOptions o;
  o.out_dir = dir / "out";
  o.tapfault_binary = fake_tapfault(dir);
  o.jobs = 3;
  SuiteScenario bad = scenario("bad");
  bad.parse_error = "s/bad.yaml:3:11: network.family: expected ipv4 or ipv6, got ipv5";
  std::vector<SuiteScenario> list = {scenario("pass"), scenario("fail"), bad, scenario("env"), scenario("crash"),
                                     scenario("odd")};
  std::ostringstream progress;
  auto results = run_suite(list, o, progress);
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].verdict, SuiteVerdict::kPass);
  EXPECT_EQ(results[0].exit_code, 0);
  EXPECT_EQ(results[0].output, "ok\n");
  EXPECT_EQ(results[0].out_dir, o.out_dir / "pass");
  EXPECT_EQ(results[1].verdict, SuiteVerdict::kFail);
  EXPECT_EQ(results[1].message, "s/fail.yaml:12: expect.error: expected ETIMEDOUT but saw <none> & \"more\"");
  EXPECT_EQ(results[2].verdict, SuiteVerdict::kError);
  EXPECT_EQ(results[2].message, bad.parse_error);
  EXPECT_EQ(results[3].verdict, SuiteVerdict::kError);
  EXPECT_EQ(results[3].exit_code, 3);
  EXPECT_EQ(results[3].message, "tapfault: /dev/net/tun: No such device");
  EXPECT_EQ(results[4].verdict, SuiteVerdict::kError);
  EXPECT_NE(results[4].message.find("signal 11"), std::string::npos) << results[4].message;
  EXPECT_EQ(results[5].verdict, SuiteVerdict::kError);
  EXPECT_EQ(results[5].message, "exit code 9") << "not a documented exit code";
  EXPECT_TRUE(progress.str().empty()) << "no progress line unless asked for";
  EXPECT_EQ(suite_exit_code(results), 1);
  EXPECT_EQ(suite_exit_code({results[0]}), 0);
}

TEST(SuiteRun, AFamilyRunIsAskedForWithFamily) {
  fs::path dir = scratch_dir();
  SuiteOptions o;
  o.out_dir = dir / "out";
  o.tapfault_binary = fake_tapfault(dir);
  SuiteScenario v6 = scenario("family");
  v6.name = "family-ipv6";
  v6.family = "ipv6";
  std::ostringstream progress;
  auto results = run_suite({v6}, o, progress);
  EXPECT_EQ(results[0].output, "family ipv6\n");
  EXPECT_EQ(results[0].out_dir, o.out_dir / "family-ipv6");
}

TEST(SuiteRun, RunsScenariosConcurrently) {
  fs::path dir = scratch_dir();
  SuiteOptions o;
  o.out_dir = dir / "out";
  o.tapfault_binary = fake_tapfault(dir);
  o.jobs = 2;  // each of the pair waits (up to 5 s) until the other has started
  std::ostringstream progress;
  auto results = run_suite({scenario("pair-a"), scenario("pair-b")}, o, progress);
  EXPECT_EQ(results[0].verdict, SuiteVerdict::kPass) << results[0].message;
  EXPECT_EQ(results[1].verdict, SuiteVerdict::kPass) << results[1].message;
}

TEST(SuiteRun, HungRunIsKilledAfterDurationPlusGrace) {
  fs::path dir = scratch_dir();
  SuiteOptions o;
  o.out_dir = dir / "out";
  o.tapfault_binary = fake_tapfault(dir);
  o.grace = std::chrono::milliseconds(200);
  o.progress = true;
  std::ostringstream progress;
  auto start = std::chrono::steady_clock::now();
  auto results = run_suite({scenario("hang", std::chrono::milliseconds(100))}, o, progress);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(results[0].verdict, SuiteVerdict::kError);
  EXPECT_NE(results[0].message.find("killed after"), std::string::npos) << results[0].message;
  EXPECT_NE(progress.str().find("[0/1] running: hang"), std::string::npos) << progress.str();
  EXPECT_EQ(progress.str().substr(progress.str().size() - 4), "\r\033[K") << "the line is erased at the end";
}

TEST(SuiteRun, StaleReportOfAnEarlierRunIsRemoved) {
  fs::path dir = scratch_dir();
  SuiteOptions o;
  o.out_dir = dir / "out";
  o.tapfault_binary = fake_tapfault(dir);
  write(o.out_dir / "env" / "report.json", R"({"checks": [{"field": "old", "ok": false}]})");
  std::ostringstream progress;
  run_suite({scenario("env")}, o, progress);
  EXPECT_FALSE(fs::exists(o.out_dir / "env" / "report.json"));
}

std::vector<SuiteResult> sample_results() {
  SuiteResult pass;
  pass.scenario = scenario("faults/silent-peer-ipv4");
  pass.verdict = SuiteVerdict::kPass;
  pass.exit_code = 0;
  pass.duration = std::chrono::milliseconds(2080);
  SuiteResult fail = pass;
  fail.scenario = scenario("zero-window");
  fail.verdict = SuiteVerdict::kFail;
  fail.exit_code = 1;
  fail.message = "z.yaml:12: expect.error: expected <ETIMEDOUT> & \"x\" but saw 'none'";
  fail.output = "zero-window: FAIL\n  FAIL z.yaml:12: ...\x01\n";
  SuiteResult error = pass;
  error.scenario = scenario("bad");
  error.verdict = SuiteVerdict::kError;
  error.exit_code = 2;
  error.message = "bad.yaml:3:11: network.family: expected ipv4 or ipv6";
  return {pass, fail, error};
}

TEST(SuiteReport, TableHasOneLinePerScenarioAndTotals) {
  std::string t = format_suite_table(sample_results(), false, std::chrono::seconds(3));
  EXPECT_NE(t.find("faults/silent-peer-ipv4  PASS       2.08 s\n"), std::string::npos) << t;
  EXPECT_NE(t.find("zero-window              FAIL       2.08 s  z.yaml:12: expect.error"), std::string::npos) << t;
  EXPECT_NE(t.find("bad                      ERROR      2.08 s  bad.yaml:3:11"), std::string::npos) << t;
  EXPECT_NE(t.find("3 scenarios: 1 passed, 1 failed, 1 error in 3.0 s\n"), std::string::npos) << t;
  std::string failures = format_suite_table(sample_results(), true);
  EXPECT_EQ(failures.find("PASS"), std::string::npos) << failures;
  EXPECT_NE(failures.find("1 passed"), std::string::npos) << failures;
}

TEST(SuiteReport, JunitIsWellFormedWithFailuresAndErrors) {
  std::string xml = format_junit(sample_results(), "captures/scenarios");
  auto doc = parse_xml(xml);
  ASSERT_TRUE(doc.ok()) << doc.error << "\n" << xml;
  auto suites = doc.all("testsuite");
  ASSERT_EQ(suites.size(), 1u);
  EXPECT_EQ(suites[0]->attributes.at("tests"), "3");
  EXPECT_EQ(suites[0]->attributes.at("failures"), "1");
  EXPECT_EQ(suites[0]->attributes.at("errors"), "1");
  auto cases = doc.all("testcase");
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(cases[0]->attributes.at("name"), "faults/silent-peer-ipv4");
  EXPECT_EQ(cases[0]->attributes.at("classname"), "tapfault.faults");
  EXPECT_EQ(cases[0]->attributes.at("time"), "2.080");
  auto failures = doc.all("failure");
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0]->attributes.at("message"), sample_results()[1].message);
  EXPECT_EQ(failures[0]->text, "zero-window: FAIL\n  FAIL z.yaml:12: ...?\n");
  auto errors = doc.all("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->attributes.at("type"), "bad-input");
  if (tool_available("xmllint")) {
    fs::path f = scratch_dir() / "junit.xml";
    std::ofstream(f) << xml;
    auto r = shell("xmllint --noout " + f.string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
}

TEST(SuiteReport, XmlEscapeKeepsUtf8AndDropsWhatXmlCannotHold) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape("t\xc3\xa9st \xe2\x86\x92 ok"), "t\xc3\xa9st \xe2\x86\x92 ok");
  EXPECT_EQ(xml_escape(std::string("x\x01y\x1b[0m\xff\xc3")), "x?y?[0m??");
  EXPECT_EQ(xml_escape("a\r\nb\t"), "a&#13;\nb\t");
}

TEST(SuiteReport, FirstMismatchOfAReport) {
  fs::path dir = scratch_dir();
  fs::path r = dir / "report.json";
  write(r, R"({"scenario": {"file": "x.yaml"}, "checks": [{"field": "expect.peer_received", "expected": "6",
            "actual": "0", "line": 7, "ok": false}]})");
  EXPECT_EQ(first_mismatch(r), "x.yaml:7: expect.peer_received: expected 6 but saw 0");
  write(r, R"({"checks": [{"field": "a", "ok": true}]})");
  EXPECT_EQ(first_mismatch(r), "");
  write(r, "not json");
  EXPECT_EQ(first_mismatch(r), "");
  EXPECT_EQ(first_mismatch(dir / "missing.json"), "");
}

}  // namespace
}  // namespace tapfault::testing
