// A small XML well-formedness checker for the documents tapfault writes (SVG, JUnit):
// one root element, balanced tags, quoted attributes without duplicates, only the five
// predefined entities and character references, no '<' or stray '&' in text, comments and
// the XML declaration. No DTDs, no namespaces checks, no encoding other than UTF-8: a
// tight subset, which is what a generator should stay within anyway.
// parse_xml() returns the elements in document order for the tests' content checks.
#pragma once

#include <cctype>
#include <map>
#include <string>
#include <vector>

namespace tapfault::testing {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;  // values with entities resolved
  std::string text;                               // direct text content, entities resolved
  int depth = 0;
};

struct XmlDocument {
  std::vector<XmlElement> elements;
  std::string error;  // empty when well-formed; else "offset N: what"

  bool ok() const { return error.empty(); }
  std::vector<const XmlElement*> all(const std::string& name) const {
    std::vector<const XmlElement*> out;
    for (const XmlElement& e : elements)
      if (e.name == name) out.push_back(&e);
    return out;
  }
};

namespace detail {

class XmlParser {
 public:
  explicit XmlParser(const std::string& s) : s_(s) {}

  XmlDocument parse() {
    skip_space();
    if (starts("<?xml")) {
      auto end = s_.find("?>", i_);
      if (end == std::string::npos) return fail("unterminated XML declaration");
      i_ = end + 2;
    }
    skip_misc();
    if (!starts("<") || starts("</")) return fail("no root element");
    if (!element(0)) return std::move(doc_);
    skip_misc();
    if (i_ != s_.size()) return fail("content after the root element");
    return std::move(doc_);
  }

 private:
  XmlDocument fail(const std::string& what) {
    if (doc_.error.empty()) doc_.error = "offset " + std::to_string(i_) + ": " + what;
    return std::move(doc_);
  }
  bool starts(const char* p) const { return s_.compare(i_, std::char_traits<char>::length(p), p) == 0; }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool comment() {
    auto end = s_.find("-->", i_ + 4);
    if (end == std::string::npos) return fail("unterminated comment"), false;
    i_ = end + 3;
    return true;
  }
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<!--")) {
        if (!comment()) return;
      } else {
        return;
      }
    }
  }
  static bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':' ||
           (static_cast<unsigned char>(c) >= 0x80);
  }
  std::string name() {
    std::size_t b = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    return s_.substr(b, i_ - b);
  }
  // Text up to `stop` with entities resolved; false on a bad entity or a '<'.
  bool text_until(char stop, std::string& out) {
    while (i_ < s_.size() && s_[i_] != stop) {
      char c = s_[i_];
      if (c == '<') return fail("'<' in text or attribute"), false;
      if (c == '&') {
        auto semi = s_.find(';', i_);
        if (semi == std::string::npos || semi - i_ > 10) return fail("stray '&'"), false;
        std::string ent = s_.substr(i_ + 1, semi - i_ - 1);
        static const std::map<std::string, char> kEntities = {
            {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
        if (auto it = kEntities.find(ent); it != kEntities.end()) out += it->second;
        else if (ent.size() > 1 && ent[0] == '#') out += '?';  // a character reference
        else return fail("unknown entity &" + ent + ";"), false;
        i_ = semi + 1;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
        return fail("control character in text"), false;
      out += c;
      ++i_;
    }
    return true;
  }
  bool element(int depth) {
    ++i_;  // '<'
    XmlElement e;
    e.depth = depth;
    e.name = name();
    if (e.name.empty()) return fail("element without a name"), false;
    for (;;) {
      std::size_t before = i_;
      skip_space();
      if (starts("/>")) {
        i_ += 2;
        doc_.elements.push_back(std::move(e));
        return true;
      }
      if (starts(">")) {
        ++i_;
        break;
      }
      if (i_ == before) return fail("expected whitespace, '>' or '/>' in <" + e.name + ">"), false;
      std::string attr = name();
      if (attr.empty()) return fail("bad attribute in <" + e.name + ">"), false;
      skip_space();
      if (!starts("=")) return fail("attribute " + attr + " without '='"), false;
      ++i_;
      skip_space();
      if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return fail("unquoted attribute " + attr), false;
      char q = s_[i_++];
      std::string value;
      if (!text_until(q, value)) return false;
      if (i_ >= s_.size()) return fail("unterminated attribute " + attr), false;
      ++i_;
      if (!e.attributes.emplace(attr, value).second) return fail("duplicate attribute " + attr), false;
    }
    std::size_t index = doc_.elements.size();
    doc_.elements.push_back(e);
    for (;;) {
      std::string text;
      if (!text_until('<', text)) return false;
      doc_.elements[index].text += text;
      if (i_ >= s_.size()) return fail("unclosed <" + e.name + ">"), false;
      if (starts("<!--")) {
        if (!comment()) return false;
      } else if (starts("</")) {
        i_ += 2;
        std::string closing = name();
        skip_space();
        if (closing != e.name || !starts(">")) return fail("</" + closing + "> closes <" + e.name + ">"), false;
        ++i_;
        return true;
      } else if (!element(depth + 1)) {
        return false;
      }
    }
  }

  const std::string& s_;
  std::size_t i_ = 0;
  XmlDocument doc_;
};

}  // namespace detail

inline XmlDocument parse_xml(const std::string& text) { return detail::XmlParser(text).parse(); }

}  // namespace tapfault::testing
