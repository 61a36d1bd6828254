#include "core/file_tensor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace finetorch {
namespace {

// Bytes from element 0 to the end of the last element (0 for an empty tensor).
int64_t ExtentBytes(const FileTensor& t) {
  int64_t last = 0;
  for (size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] == 0) return 0;
    last += (t.shape[i] - 1) * t.stride[i];
  }
  return (last + 1) * static_cast<int64_t>(c10::elementSize(t.dtype));
}

bool RowMajor(const FileTensor& t) {
  int64_t expected = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] != 1 && t.stride[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

class File {
 public:
  explicit File(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw Error(ErrorCode::kPth, std::string("cannot open: ") + std::strerror(errno));
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  int64_t size() const {
    struct stat st;
    if (::fstat(fd_, &st) != 0) throw Error(ErrorCode::kPth, std::string("cannot stat: ") + std::strerror(errno));
    return st.st_size;
  }

  void readAt(void* into, int64_t length, int64_t position, const std::string& name) const {
    char* out = static_cast<char*>(into);
    for (int64_t done = 0; done < length;) {
      ssize_t n = ::pread(fd_, out + done, static_cast<size_t>(length - done), position + done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        throw Error(ErrorCode::kPth, "reading '" + name + "' at byte " + std::to_string(position + done) + " failed (" +
                                         (n < 0 ? std::strerror(errno) : "the file shrank while loading") +
                                         "); the model's weights are now partly loaded");
      }
      done += n;
    }
  }

 private:
  int fd_;
};

}  // namespace

void ReadFileTensors(const std::string& file, const std::vector<FileRead>& reads) {
  File in(file);
  int64_t size = in.size();
  for (const auto& r : reads) {
    if (r.source->position + ExtentBytes(*r.source) > size) {
      throw Error(ErrorCode::kPth, "'" + r.name + "' runs past the end of the file (truncated file?)");
    }
  }
  torch::NoGradGuard noGrad;
  for (const auto& r : reads) {
    const FileTensor& source = *r.source;
    int64_t extent = ExtentBytes(source);
    if (extent == 0) continue;
    torch::Tensor target = r.target;
    if (target.device().is_cpu() && target.is_contiguous() && target.scalar_type() == source.dtype &&
        RowMajor(source)) {
      in.readAt(target.data_ptr(), extent, source.position, r.name);
      continue;
    }
    // Strided, another dtype, or a GPU target: the extent lands in a buffer, copy_ does the rest.
    torch::Tensor buffer = torch::empty({extent / static_cast<int64_t>(c10::elementSize(source.dtype))},
                                        torch::TensorOptions().dtype(source.dtype));
    in.readAt(buffer.data_ptr(), extent, source.position, r.name);
    target.copy_(buffer.as_strided(source.shape, source.stride));
  }
}

}  // namespace finetorch
