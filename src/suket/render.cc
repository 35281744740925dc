// The printed Suket: one A5 page drawn with cairo in millimetres, to a
// vector PDF and a PNG, with the token as a QR code (libqrencode).
#include <cairo-pdf.h>
#include <cairo.h>
#include <qrencode.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/service_notice.h"
#include "drawing/drawing.h"
#include "suket/suket.h"

namespace ektp::suket {
namespace {

constexpr double kPageWidthMm = 148.0;  // A5
constexpr double kPageHeightMm = 210.0;
constexpr double kMmPerInch = 25.4;
constexpr double kPointsPerInch = 72;
constexpr const char* kFont = "DejaVu Sans";
constexpr double kMargin = 12.0;
constexpr double kColonX = 48.0, kValueX = 50.0, kValueRight = 102.0;
constexpr double kPhotoX = 108.0, kPhotoY = 58.0, kPhotoW = 28.0, kPhotoH = 37.0;
constexpr double kQrX = kMargin, kQrY = 134.0, kQrSize = 50.0;
constexpr std::chrono::hours kWibOffset{7};

using SurfacePtr = drawing::Surface;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;
using QrPtr = std::unique_ptr<QRcode, decltype(&QRcode_free)>;

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

// "17-08-1990".
std::string PrintedDate(std::chrono::year_month_day date) {
  const std::string iso = FormatDate(date);
  return iso.substr(8, 2) + "-" + iso.substr(5, 2) + "-" + iso.substr(0, 4);
}

std::string PrintedDate(TimePoint t) {
  return PrintedDate(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t + kWibOffset)));
}

void Font(cairo_t* cr, double size, bool bold) { drawing::SetFont(cr, kFont, size, bold); }

// `text` with its baseline at (x, y), shrunk to `max_width` when given.
void Line(cairo_t* cr, double x, double y, const std::string& text, double size, bool bold = false,
          double max_width = 0) {
  drawing::ShowText(cr, kFont, x, y, text, size, bold, max_width);
}

// `text` in at most two lines of `max_width`, broken after a comma or a
// space; the second line is shrunk when it is still too wide.
std::vector<std::string> Wrapped(cairo_t* cr, const std::string& text, double size, double max_width) {
  Font(cr, size, true);
  if (drawing::TextWidth(cr, text) <= max_width) return {text};
  size_t split = std::string::npos;
  for (size_t at = text.find(' '); at != std::string::npos; at = text.find(' ', at + 1)) {
    if (drawing::TextWidth(cr, text.substr(0, at)) > max_width) break;
    if (split == std::string::npos || text[at - 1] == ',' || text[split - 1] != ',') split = at;
  }
  if (split == std::string::npos) return {text};
  return {text.substr(0, split), text.substr(split + 1)};
}

void Centered(cairo_t* cr, double y, const std::string& text, double size, bool bold) {
  Font(cr, size, bold);
  Line(cr, (kPageWidthMm - drawing::TextWidth(cr, text)) / 2, y, text, size, bold, kPageWidthMm - 2 * kMargin);
}

void Qr(cairo_t* cr, const QRcode& qr) {
  const double module = kQrSize / qr.width;
  cairo_save(cr);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);  // crisp modules in the bitmap
  for (int y = 0; y < qr.width; ++y) {
    for (int x = 0; x < qr.width; ++x) {
      if (qr.data[y * qr.width + x] & 1) cairo_rectangle(cr, kQrX + x * module, kQrY + y * module, module, module);
    }
  }
  cairo_fill(cr);
  cairo_restore(cr);
}

struct Page {
  const SuketData& data;
  std::string regency;  // "KABUPATEN NGAWI"
  cairo_surface_t* photo;
  const QRcode& qr;
};

void Draw(cairo_t* cr, const Page& page) {
  const SuketData& d = page.data;
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 0, 0, 0);

  Centered(cr, 16, "PEMERINTAH " + page.regency, 4.2, true);
  Centered(cr, 22, "DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL", 3.8, true);
  cairo_set_line_width(cr, 0.6);
  cairo_move_to(cr, kMargin, 26);
  cairo_line_to(cr, kPageWidthMm - kMargin, 26);
  cairo_stroke(cr);
  Centered(cr, 37, "SURAT KETERANGAN", 6.0, true);
  Centered(cr, 43, "Pengganti KTP Elektronik selama kartu dalam proses", 3.2, false);
  Centered(cr, 49, "Nomor: " + d.serial, 3.4, true);

  Line(cr, kMargin, 58, "Yang bertanda tangan di bawah ini menerangkan bahwa:", 3.0);
  const std::pair<const char*, std::string> rows[] = {
      {"NIK", d.nik.empty() ? "belum diterbitkan" : d.nik},
      {"No. Registrasi", d.registration_number},
      {"Nama", Upper(d.name)},
      {"Tempat/Tgl Lahir", Upper(d.place_of_birth) + ", " + PrintedDate(d.birth_date)},
      {"Jenis Kelamin", d.sex == Sex::kMale ? "LAKI-LAKI" : "PEREMPUAN"},
      {"Alamat", Upper(d.address)},
      {"Berlaku Hingga", PrintedDate(d.valid_until)},
  };
  double y = 66;
  for (const auto& [label, value] : rows) {
    Line(cr, kMargin, y, label, 3.0);
    Line(cr, kColonX, y, ":", 3.0);
    for (const std::string& part : Wrapped(cr, value, 3.0, kValueRight - kValueX)) {
      Line(cr, kValueX, y, part, 3.0, true, kValueRight - kValueX);
      y += 4.6;
    }
    y += 1.6;
  }
  drawing::PaintFitted(cr, page.photo, kPhotoX, kPhotoY, kPhotoW, kPhotoH);

  const std::string paragraph[] = {
      "adalah penduduk yang telah melakukan perekaman KTP Elektronik dan kartunya",
      "sedang dalam proses penerbitan. Surat keterangan ini berlaku sebagai pengganti",
      "KTP Elektronik sampai dengan " + PrintedDate(d.valid_until) + ", kecuali dicabut lebih awal.",
  };
  y = 115;
  for (const std::string& line : paragraph) {
    Line(cr, kMargin, y, line, 3.0, false, kPageWidthMm - 2 * kMargin);
    y += 5;
  }

  Qr(cr, page.qr);
  const double text_x = kQrX + kQrSize + 6, text_width = kPageWidthMm - kMargin - text_x;
  const std::string issued[] = {
      "Diterbitkan di " + page.regency,
      "pada " + PrintedDate(d.issued_at),
      "oleh tempat perekaman " + d.station_id,
      "",
      "Keaslian Suket ini dapat diperiksa",
      "tanpa internet dengan memindai kode QR:",
      "ektp suket verify",
  };
  y = kQrY + 5;
  for (const std::string& line : issued) {
    Line(cr, text_x, y, line, 3.0, &line == &issued[6], text_width);
    y += 5.5;
  }

  // The free-service notice (core/service_notice.h), one sentence a line, and the complaint channel.
  cairo_set_line_width(cr, 0.4);
  cairo_rectangle(cr, kMargin, 188, kPageWidthMm - 2 * kMargin, 17);
  cairo_stroke(cr);
  const std::string_view notice = kFreeServiceNotice;
  const size_t sentence_end = notice.find(". ");
  Centered(cr, 193, std::string(notice.substr(0, sentence_end + 1)), 3.6, true);
  if (sentence_end != std::string_view::npos) Centered(cr, 197.5, std::string(notice.substr(sentence_end + 2)), 3.0, false);
  Centered(cr, 202, std::string(kComplaintChannel), 3.0, true);
}

cairo_status_t Append(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<Bytes*>(closure)->insert(static_cast<Bytes*>(closure)->end(), data, data + length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

StatusOr<RenderedSuket> RenderSuket(const SuketData& data, std::string_view token, std::span<const uint8_t> face_jpeg,
                                    const RegionRegistry& regions) {
  const Region* regency = regions.Find(data.regency_code);
  if (regency == nullptr || regency->level != RegionLevel::kRegency) {
    return InvalidArgument("regency_code: " + data.regency_code + " is not a regency");
  }
  if (crypto::Sha256(face_jpeg) != data.photo_sha256) {
    return InvalidArgument("face photo: its SHA-256 is not the Suket's photo_sha256");
  }
  ASSIGN_OR_RETURN(SurfacePtr photo, drawing::ImageSurface(face_jpeg, "face photo"));
  const std::string token_text(token);
  QrPtr qr(QRcode_encodeString(token_text.c_str(), 0, QR_ECLEVEL_Q, QR_MODE_8, 1), QRcode_free);
  if (qr == nullptr) return InvalidArgument("token: does not fit a QR code");
  const Page page{data, Upper(regency->name), photo.get(), *qr};

  RenderedSuket rendered;
  constexpr double kMmToPoints = kPointsPerInch / kMmPerInch;
  {
    SurfacePtr pdf(cairo_pdf_surface_create_for_stream(Append, &rendered.pdf, kPageWidthMm * kMmToPoints,
                                                       kPageHeightMm * kMmToPoints),
                   cairo_surface_destroy);
    ContextPtr cr(cairo_create(pdf.get()), cairo_destroy);
    cairo_scale(cr.get(), kMmToPoints, kMmToPoints);
    Draw(cr.get(), page);
    cairo_show_page(cr.get());
    cr.reset();
    cairo_surface_finish(pdf.get());
    if (cairo_surface_status(pdf.get()) != CAIRO_STATUS_SUCCESS) {
      return Internal(std::string("suket: rendering the PDF failed: ") +
                      cairo_status_to_string(cairo_surface_status(pdf.get())));
    }
  }
  const double px_per_mm = kPngDpi / kMmPerInch;
  SurfacePtr png(cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(std::lround(kPageWidthMm * px_per_mm)),
                                            static_cast<int>(std::lround(kPageHeightMm * px_per_mm))),
                 cairo_surface_destroy);
  ContextPtr cr(cairo_create(png.get()), cairo_destroy);
  cairo_scale(cr.get(), px_per_mm, px_per_mm);
  Draw(cr.get(), page);
  if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS ||
      cairo_surface_write_to_png_stream(png.get(), Append, &rendered.png) != CAIRO_STATUS_SUCCESS) {
    return Internal(std::string("suket: rendering the PNG failed: ") + cairo_status_to_string(cairo_status(cr.get())));
  }
  return rendered;
}

}  // namespace ektp::suket
