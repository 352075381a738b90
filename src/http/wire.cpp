#include "idemgate/http/wire.hpp"

namespace idemgate::wire {

namespace {

void append_version(std::string& out, unsigned version) {
    out.append("HTTP/");
    out.push_back(static_cast<char>('0' + version / 10));
    out.push_back('.');
    out.push_back(static_cast<char>('0' + version % 10));
}

template <class Fields>
void append_fields(std::string& out, Fields const& fields) {
    for (auto const& f : fields) {
        out.append(f.name_string());
        out.append(": ");
        out.append(f.value());
        out.append("\r\n");
    }
    out.append("\r\n");
}

} // namespace

void append_head(std::string& out, request const& req) {
    out.append(req.method_string());
    out.push_back(' ');
    out.append(req.target());
    out.push_back(' ');
    append_version(out, req.version());
    out.append("\r\n");
    append_fields(out, req.base());
}

void append_head(std::string& out, response const& res) {
    append_version(out, res.version());
    out.push_back(' ');
    auto const code = res.result_int();
    out.push_back(static_cast<char>('0' + code / 100 % 10));
    out.push_back(static_cast<char>('0' + code / 10 % 10));
    out.push_back(static_cast<char>('0' + code % 10));
    out.push_back(' ');
    auto const reason = res.reason();
    out.append(reason.empty() ? http::obsolete_reason(res.result()) : reason);
    out.append("\r\n");
    append_fields(out, res.base());
}

} // namespace idemgate::wire
