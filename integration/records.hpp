// Enter/exit records that lock clients in other processes write (integration/peers/README.md)
// and their checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace zkr::test {

/// Appends `line` (its newline included) to a record file in one write(2) on an O_APPEND
/// descriptor, so that the lines of processes writing at once never mix; false on failure.
/// Inline: the lock worker, which links no test support, writes its records with it too.
inline bool append_record_line(const std::string& file, const std::string& line) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) {
        return false;
    }
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    return written;
}

/// Checks an enter/exit record (see integration/peers/README.md; "lead"/"unlead" count as
/// enter/exit): at most `max_inside` holders inside at once ("enter-read"/"exit-read" mark
/// shared holders, who may overlap each other but no exclusive one), each exit matching an
/// entry. Returns the number of critical sections; adds a test failure per violation.
std::size_t check_record(const std::string& file, std::size_t max_inside = 1);

/// A temporary record file (see check_record), removed on destruction.
struct record_file {
    record_file();
    ~record_file();
    record_file(const record_file&) = delete;
    record_file& operator=(const record_file&) = delete;
    std::string path;
};

/// Fencing tokens of the critical sections in a record ("enter NAME PID TOKEN"), in order.
std::vector<std::int64_t> tokens_in(const std::string& record);

}  // namespace zkr::test
