#pragma once
#include <string>

namespace npcl::config::test {

/// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Writes `text` to `name` inside the directory and returns the file's path.
  std::string write(const std::string& name, const std::string& text) const;

  /// The path of `name` inside the directory (the file need not exist).
  std::string path(const std::string& name) const;

 private:
  std::string root_;  ///< absolute path of the directory
};

}  // namespace npcl::config::test
