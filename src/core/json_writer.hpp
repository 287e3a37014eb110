// A minimal JSON text writer for the dashboard aggregates' raw documents:
// integers, shortest round-trip doubles (as PostgreSQL prints float8), null
// and escaped strings.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace nz {

class JsonWriter {
public:
    std::string& out() { return out_; }
    JsonWriter& raw(const char* text) { out_ += text; return *this; }
    JsonWriter& key(const char* name) { comma(); out_ += '"'; out_ += name; out_ += "\":"; fresh_ = true; return *this; }
    JsonWriter& begin_object() { comma(); out_ += '{'; fresh_ = true; return *this; }
    JsonWriter& end_object() { out_ += '}'; fresh_ = false; return *this; }
    JsonWriter& begin_array() { comma(); out_ += '['; fresh_ = true; return *this; }
    JsonWriter& end_array() { out_ += ']'; fresh_ = false; return *this; }
    JsonWriter& integer(int64_t v) { comma(); out_ += std::to_string(v); fresh_ = false; return *this; }
    JsonWriter& unsigned_integer(uint64_t v) { comma(); out_ += std::to_string(v); fresh_ = false; return *this; }
    JsonWriter& null() { comma(); out_ += "null"; fresh_ = false; return *this; }
    JsonWriter& number(double v) {
        comma();
        if (!std::isfinite(v)) {
            out_ += "null";
        } else {
            char buf[64];
            auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
            out_.append(buf, res.ptr);
        }
        fresh_ = false;
        return *this;
    }
    JsonWriter& string(const char* s, std::size_t len) {
        comma();
        out_ += '"';
        for (std::size_t i = 0; i < len; ++i) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            switch (c) {
                case '"': out_ += "\\\""; break;
                case '\\': out_ += "\\\\"; break;
                case '\n': out_ += "\\n"; break;
                case '\r': out_ += "\\r"; break;
                case '\t': out_ += "\\t"; break;
                default:
                    if (c < 0x20) {
                        static const char* hex = "0123456789abcdef";
                        out_ += "\\u00";
                        out_ += hex[c >> 4];
                        out_ += hex[c & 15];
                    } else {
                        out_ += static_cast<char>(c);
                    }
            }
        }
        out_ += '"';
        fresh_ = false;
        return *this;
    }

private:
    void comma() {
        if (!fresh_) out_ += ',';
        fresh_ = false;
    }
    std::string out_;
    bool fresh_ = true;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
