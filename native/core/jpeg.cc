#include "core/jpeg.h"

// jpeglib.h needs size_t and FILE declared before it.
#include <jerror.h>
#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/error.h"

namespace finetorch {
namespace {

// A progressive file with more scans than this is hostile (each scan re-reads the whole
// coefficient buffer); real encoders write about ten.
constexpr int kMaxScans = 500;

// Columns decoded beyond a crop box on each side (see Decode).
constexpr int kCropMargin = 2;

// libjpeg calls these through cinfo->err; setjmp/longjmp is its documented way out of a failed
// call (a C++ exception would have to unwind through C frames).
struct ErrorManager {
  jpeg_error_mgr base;  // first: libjpeg sees only this part
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void Fail(j_common_ptr cinfo, const char* message) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  std::snprintf(err->message, sizeof err->message, "%s", message);
  longjmp(err->jump, 1);
}

[[noreturn]] void OnError(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  cinfo->err->format_message(cinfo, message);
  Fail(cinfo, message);
}

// Level -1 is a corrupt-data warning (truncated file, bad Huffman code, data after a marker):
// decoding it would give grey blocks, so it fails as sharp's failOn: 'error' does. Other levels
// are trace messages.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0) OnError(cinfo);
}

void OnProgress(j_common_ptr cinfo) {
  if (reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number > kMaxScans) {
    Fail(cinfo, "more than 500 progressive scans");
  }
}

// Header errors that mean "libjpeg-turbo's 8-bit API cannot decode this", not "corrupt".
bool IsUnsupportedFlavour(int code) {
  return code == JERR_BAD_PRECISION || code == JERR_SOF_UNSUPPORTED;
}

}  // namespace

std::string JpegBackendName() {
  const int v = LIBJPEG_TURBO_VERSION_NUMBER;
  return "libjpeg-turbo " + std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
}

struct JpegDecoder::State {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  jpeg_progress_mgr progress{};
  bool created = false;
  bool used = false;
  std::string unsupported;
  // Here rather than in ~JpegDecoder, which does not run when the constructor throws.
  ~State() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

namespace {

// The setjmp frames: libjpeg calls only, no object with a destructor (a longjmp would skip it)
// and nothing read after a longjmp but the error manager. false: err.message says why.
bool ReadHeader(JpegDecoder::State& s, const uint8_t* data, size_t size) {
  if (setjmp(s.err.jump)) return false;
  jpeg_create_decompress(&s.cinfo);
  s.created = true;
  s.progress.progress_monitor = OnProgress;
  s.cinfo.progress = &s.progress;
  if (size == 0) Fail(reinterpret_cast<j_common_ptr>(&s.cinfo), "empty file");
  jpeg_mem_src(&s.cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&s.cinfo, TRUE);
  return true;
}

bool ReadBox(JpegDecoder::State& s, int scale, const JpegBox& box, bool toEnd, uint8_t* out, JpegDecoder::Rows& rows) {
  jpeg_decompress_struct& cinfo = s.cinfo;
  j_common_ptr common = reinterpret_cast<j_common_ptr>(&cinfo);
  if (setjmp(s.err.jump)) return false;
  if (scale != 1 && scale != 2 && scale != 4 && scale != 8) Fail(common, "bad scale");
  cinfo.scale_num = 1;
  cinfo.scale_denom = static_cast<unsigned>(scale);
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  // libjpeg's defaults otherwise (islow IDCT, fancy upsampling): PIL's, so the pixels are PIL's.
  jpeg_calc_output_dimensions(&cinfo);
  if (box.left < 0 || box.top < 0 || box.width <= 0 || box.height <= 0 ||
      static_cast<JDIMENSION>(box.left + box.width) > cinfo.output_width ||
      static_cast<JDIMENSION>(box.top + box.height) > cinfo.output_height) {
    Fail(common, "crop box outside the image");
  }
  jpeg_start_decompress(&cinfo);
  // A cropped row's edge columns are upsampled as the image's edges would be (the chroma sample
  // beyond is not read): widen the crop by a pixel or two each side so the box's own columns are
  // interior and equal to a whole decode's.
  const int right = std::min(box.left + box.width + kCropMargin, static_cast<int>(cinfo.output_width));
  JDIMENSION xoffset = static_cast<JDIMENSION>(std::max(box.left - kCropMargin, 0));
  JDIMENSION width = static_cast<JDIMENSION>(right) - xoffset;
  if (width != cinfo.output_width) jpeg_crop_scanline(&cinfo, &xoffset, &width);
  if (box.top > 0) jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(box.top));
  // The rows go straight to `out` as libjpeg crops them; the caller reads the box from there.
  rows = {box.left - static_cast<int>(xoffset), static_cast<int>(width)};
  const size_t rowBytes = static_cast<size_t>(width) * cinfo.output_components;
  for (int y = 0; y < box.height; ++y) {
    JSAMPROW row = out + y * rowBytes;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) Fail(common, "no more rows");
  }
  if (!toEnd) {
    jpeg_abort_decompress(&cinfo);
    return true;
  }
  // The rows below the box are entropy-decoded (jpeg_skip_scanlines, no IDCT) and the file read
  // to its end. (A skip that reaches the last row would not read the data: that row is read, into
  // a row of its own.)
  const JDIMENSION below = cinfo.output_height - cinfo.output_scanline;
  if (below > 1) jpeg_skip_scanlines(&cinfo, below - 1);
  if (below > 0) {
    JSAMPARRAY last = (*cinfo.mem->alloc_sarray)(common, JPOOL_IMAGE, static_cast<JDIMENSION>(rowBytes), 1);
    if (jpeg_read_scanlines(&cinfo, last, 1) != 1) Fail(common, "no more rows");
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

}  // namespace

JpegDecoder::JpegDecoder(const uint8_t* data, size_t size, const JpegLimits& limits) : state_(new State) {
  State& s = *state_;
  s.cinfo.err = jpeg_std_error(&s.err.base);
  s.err.base.error_exit = OnError;
  s.err.base.emit_message = OnMessage;
  if (!ReadHeader(s, data, size)) {
    if (!IsUnsupportedFlavour(s.err.base.msg_code)) throw Error(ErrorCode::kImageDecode, s.err.message);
    s.unsupported = s.err.message;
    return;
  }
  const int64_t pixels = static_cast<int64_t>(s.cinfo.image_width) * s.cinfo.image_height;
  if (pixels > limits.maxPixels) {
    throw Error(ErrorCode::kImageDecode, std::to_string(s.cinfo.image_width) + "x" +
                                             std::to_string(s.cinfo.image_height) + " exceeds the limit of " +
                                             std::to_string(limits.maxPixels) + " pixels");
  }
  s.cinfo.mem->max_memory_to_use = static_cast<long>(limits.maxMemory);
#ifndef D_ARITH_CODING_SUPPORTED
  if (s.cinfo.arith_code) s.unsupported = "arithmetic coding";
#endif
  if (s.cinfo.jpeg_color_space == JCS_CMYK || s.cinfo.jpeg_color_space == JCS_YCCK) {
    s.unsupported = "CMYK colour";
  } else if (s.cinfo.num_components != 1 && s.cinfo.num_components != 3) {
    s.unsupported = std::to_string(s.cinfo.num_components) + " colour components";
  }
}

JpegDecoder::~JpegDecoder() = default;

int JpegDecoder::width() const {
  return static_cast<int>(state_->cinfo.image_width);
}
int JpegDecoder::height() const {
  return static_cast<int>(state_->cinfo.image_height);
}
int JpegDecoder::channels() const {
  return state_->cinfo.num_components == 1 ? 1 : 3;
}
const std::string& JpegDecoder::unsupported() const {
  return state_->unsupported;
}

int64_t JpegDecoder::workingBytes() const {
  const jpeg_decompress_struct& c = state_->cinfo;
  int64_t blocks = 0;
  for (int i = 0; i < c.num_components; ++i) {
    blocks += static_cast<int64_t>(c.comp_info[i].width_in_blocks + c.max_h_samp_factor) *
              (c.comp_info[i].height_in_blocks + c.max_v_samp_factor);
  }
  // Progressive files keep every coefficient (64 shorts a block) until the last scan; sequential
  // ones a few rows of blocks and of pixels.
  const int64_t rows = static_cast<int64_t>(c.image_width) * 16 * 8 * (c.num_components + 3);
  return (c.progressive_mode ? blocks * 64 * static_cast<int64_t>(sizeof(JCOEF)) : 0) + rows + (1 << 16);
}

int JpegDecoder::MaxStride(int width) const {
  // The crop's margins, and its left edge moved back to an iMCU boundary (at most one iMCU).
  return width + 2 * kCropMargin + state_->cinfo.max_h_samp_factor * DCTSIZE;
}

JpegDecoder::Rows JpegDecoder::Decode(int scale, const JpegBox& box, bool toEnd, uint8_t* out) {
  State& s = *state_;
  if (!s.unsupported.empty() || s.used) {
    throw Error(ErrorCode::kImageDecode, s.used ? "a JpegDecoder decodes once" : s.unsupported);
  }
  s.used = true;
  Rows rows{};
  if (!ReadBox(s, scale, box, toEnd, out, rows)) throw Error(ErrorCode::kImageDecode, s.err.message);
  return rows;
}

}  // namespace finetorch
