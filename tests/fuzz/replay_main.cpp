// The main of a fuzz target in an ordinary build: runs LLVMFuzzerTestOneInput once on every
// file of the corpus directories (or files) given, so that CI replays the committed corpus
// as a regression test without clang. A libFuzzer build links libFuzzer's main instead.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

/// The files named, those of directories in name order (so that a failure reproduces).
std::vector<fs::path> inputs_of(int argc, char** argv) {
    std::vector<fs::path> out;
    for (int i = 1; i < argc; ++i) {
        fs::path const p(argv[i]);
        if (!fs::is_directory(p)) {
            out.push_back(p);
            continue;
        }
        std::vector<fs::path> files;
        for (auto const& e : fs::directory_iterator(p))
            if (e.is_regular_file()) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        out.insert(out.end(), files.begin(), files.end());
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    auto const files = inputs_of(argc, argv);
    // An empty corpus would pass without testing anything: a moved directory must fail.
    if (files.empty()) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR|FILE...: no input found\n", argv[0]);
        return 1;
    }
    auto const t0 = std::chrono::steady_clock::now();
    for (auto const& f : files) {
        std::ifstream in(f, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "cannot read %s\n", f.c_str());
            return 1;
        }
        std::string const bytes{std::istreambuf_iterator<char>(in), {}};
        // The name first: an abort inside names no input otherwise.
        std::fprintf(stderr, "%s\n", f.c_str());
        LLVMFuzzerTestOneInput(reinterpret_cast<std::uint8_t const*>(bytes.data()), bytes.size());
    }
    auto const ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    std::printf("%zu inputs replayed in %.1f ms\n", files.size(), ms.count());
    return 0;
}
