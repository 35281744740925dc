#include "card/render.h"

#include <cairo-pdf.h>
#include <cairo.h>

#include <cmath>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/resident_json.h"
#include "drawing/drawing.h"

namespace ektp::card {
namespace {

// All drawing is in millimetres from the card's top-left corner.
constexpr double kMmPerInch = 25.4;
constexpr double kPointsPerInch = 72;
constexpr const char* kFont = "DejaVu Serif";

// Front layout.
constexpr double kMargin = 4.0;
constexpr double kColonX = 24.8;
constexpr double kValueX = 26.2;
constexpr double kValueRight = 60.5;
constexpr double kFirstRowY = 19.6;
constexpr double kRowStep = 2.6;
constexpr double kTextSize = 2.3;  // about 6.5 pt
constexpr double kPhotoX = 62.5, kPhotoY = 12.0, kPhotoW = 18.5, kPhotoH = 24.0;
constexpr double kSignatureY = 44.2, kSignatureH = 7.0;

using SurfacePtr = drawing::Surface;
using ContextPtr = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

// "17-08-1990", as dates are printed on the card.
std::string CardDate(std::chrono::year_month_day date) {
  std::string iso = FormatDate(date);
  return iso.substr(8, 2) + "-" + iso.substr(5, 2) + "-" + iso.substr(0, 4);
}

std::string PadTo3(int n) {
  std::string s = std::to_string(n);
  return std::string(s.size() < 3 ? 3 - s.size() : 0, '0') + s;
}

// The region names a card prints, found once.
struct PrintedPlaces {
  std::string province;  // "JAWA TIMUR"
  std::string regency;   // "KABUPATEN NGAWI"
  std::string kecamatan;  // "NGAWI"
  std::string village;   // "KARANGJATI"
  std::string issued_at; // "KAB. NGAWI"
};

StatusOr<PrintedPlaces> PlacesOf(const CardData& data, const RegionRegistry& regions) {
  auto chain = regions.Chain(data.resident.address.village_code);
  if (chain.size() != 4) {
    return InvalidArgument("address.village_code: village " + data.resident.address.village_code + " does not exist");
  }
  const Region* issuing = regions.Find(data.issuing_regency);
  if (issuing == nullptr || issuing->level != RegionLevel::kRegency) {
    return InvalidArgument("issuing_regency: " + data.issuing_regency + " is not a regency");
  }
  std::string issued_at = Upper(issuing->name);
  if (issued_at.starts_with("KABUPATEN ")) issued_at = "KAB. " + issued_at.substr(10);
  return PrintedPlaces{Upper(chain[0]->name), Upper(chain[1]->name), Upper(chain[2]->name), Upper(chain[3]->name),
                       issued_at};
}

// A decoded image as a cairo surface (premultiplied native-endian ARGB).
// Draws `text` with its baseline at (x, y), shrunk to fit `max_width`.
void Text(cairo_t* cr, double x, double y, const std::string& text, double size, bool bold = false,
          double max_width = 0) {
  drawing::ShowText(cr, kFont, x, y, text, size, bold, max_width);
}

void CenteredText(cairo_t* cr, double center_x, double y, const std::string& text, double size, bool bold) {
  drawing::SetFont(cr, kFont, size, bold);
  Text(cr, center_x - drawing::TextWidth(cr, text) / 2, y, text, size, bold);
}

void Background(cairo_t* cr) {
  cairo_pattern_t* gradient = cairo_pattern_create_linear(0, 0, kCardWidthMm, kCardHeightMm);
  cairo_pattern_add_color_stop_rgb(gradient, 0, 0.84, 0.92, 0.98);
  cairo_pattern_add_color_stop_rgb(gradient, 1, 0.93, 0.97, 0.99);
  cairo_set_source(cr, gradient);
  cairo_paint(cr);
  cairo_pattern_destroy(gradient);
  cairo_set_source_rgb(cr, 0, 0, 0);
}

struct Images {
  SurfacePtr face;
  SurfacePtr signature;
};

void DrawFront(cairo_t* cr, const CardData& data, const PrintedPlaces& places, const Images& images) {
  const Resident& r = data.resident;
  Background(cr);
  CenteredText(cr, kCardWidthMm / 2, 5.2, "PROVINSI " + places.province, 2.9, true);
  CenteredText(cr, kCardWidthMm / 2, 9.0, places.regency, 2.9, true);

  Text(cr, kMargin, 14.8, "NIK", 3.3, true);
  Text(cr, kColonX, 14.8, ":", 3.3, true);
  Text(cr, kValueX, 14.8, r.nik, 3.3, true, kValueRight - kValueX);

  const std::string valid_until =
      data.valid_until == kValidForLife ? std::string(kValidForLife) : CardDate(*ParseIsoDate("", data.valid_until));
  const std::pair<const char*, std::string> rows[] = {
      {"Nama", r.name},
      {"Tempat/Tgl Lahir", Upper(r.place_of_birth) + ", " + CardDate(r.birth_date)},
      {"Jenis Kelamin", r.sex == Sex::kMale ? "LAKI-LAKI" : "PEREMPUAN"},
      {"Alamat", r.address.street},
      {"RT/RW", PadTo3(r.address.rt) + "/" + PadTo3(r.address.rw)},
      {"Kel/Desa", places.village},
      {"Kecamatan", places.kecamatan},
      {"Agama", std::string(ReligionName(r.religion))},
      {"Status Perkawinan", std::string(MaritalStatusName(r.marital_status))},
      {"Pekerjaan", r.occupation},
      {"Kewarganegaraan", std::string(CitizenshipName(r.citizenship))},
      {"Berlaku Hingga", valid_until},
  };
  double y = kFirstRowY;
  for (const auto& [label, value] : rows) {
    Text(cr, kMargin, y, label, kTextSize);
    Text(cr, kColonX, y, ":", kTextSize);
    const bool beside_blood_type = std::string_view(label) == "Jenis Kelamin";
    Text(cr, kValueX, y, value, kTextSize, false, (beside_blood_type ? 43.0 : kValueRight) - kValueX);
    if (beside_blood_type) {
      Text(cr, 43.5, y, "Gol. Darah : " + std::string(BloodTypeName(r.blood_type)), kTextSize);
    }
    y += kRowStep;
  }

  drawing::PaintFitted(cr, images.face.get(), kPhotoX, kPhotoY, kPhotoW, kPhotoH);
  const double column_center = kPhotoX + kPhotoW / 2;
  CenteredText(cr, column_center, 39.6, places.issued_at, 1.9, false);
  CenteredText(cr, column_center, 42.2, CardDate(data.issued_on), 1.9, false);
  drawing::PaintFitted(cr, images.signature.get(), kPhotoX, kSignatureY, kPhotoW, kSignatureH);
}

void DrawBack(cairo_t* cr, const Card& card) {
  Background(cr);
  CenteredText(cr, kCardWidthMm / 2, 8.0, "KARTU TANDA PENDUDUK ELEKTRONIK", 2.9, true);
  CenteredText(cr, kCardWidthMm / 2, 11.8, "REPUBLIK INDONESIA", 2.6, true);
  const char* notice[] = {
      "Kartu ini milik Pemerintah Republik Indonesia.",
      "Apabila menemukan kartu ini, harap dikembalikan ke",
      "Dinas Kependudukan dan Pencatatan Sipil terdekat.",
  };
  double y = 20.0;
  for (const char* line : notice) {
    CenteredText(cr, kCardWidthMm / 2, y, line, 2.1, false);
    y += 2.9;
  }
  Text(cr, kMargin, 44.0, "No. Blangko : " + card.card_serial, 2.1);
  Text(cr, kMargin, 47.0, "No. Registrasi : " + card.data.registration_number, 2.1);
}

cairo_status_t AppendToBytes(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<Bytes*>(closure);
  out->insert(out->end(), data, data + length);
  return CAIRO_STATUS_SUCCESS;
}

template <typename Draw>
StatusOr<Bytes> RenderPng(Draw draw) {
  SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, CardWidthPx(), CardHeightPx()),
                     cairo_surface_destroy);
  ContextPtr cr(cairo_create(surface.get()), cairo_destroy);
  cairo_scale(cr.get(), kPrintDpi / kMmPerInch, kPrintDpi / kMmPerInch);
  draw(cr.get());
  Bytes png;
  if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS ||
      cairo_surface_write_to_png_stream(surface.get(), AppendToBytes, &png) != CAIRO_STATUS_SUCCESS) {
    return Internal(std::string("card: rendering a PNG failed: ") + cairo_status_to_string(cairo_status(cr.get())));
  }
  return png;
}

}  // namespace

int CardWidthPx(int dpi) { return static_cast<int>(std::lround(kCardWidthMm / kMmPerInch * dpi)); }
int CardHeightPx(int dpi) { return static_cast<int>(std::lround(kCardHeightMm / kMmPerInch * dpi)); }

StatusOr<RenderedCard> RenderCard(const Card& card, const RegionRegistry& regions) {
  ASSIGN_OR_RETURN(PrintedPlaces places, PlacesOf(card.data, regions));
  if (card.data.valid_until != kValidForLife) {
    RETURN_IF_ERROR(ParseIsoDate("valid_until", card.data.valid_until).status());
  }
  Images images{SurfacePtr(nullptr, cairo_surface_destroy), SurfacePtr(nullptr, cairo_surface_destroy)};
  ASSIGN_OR_RETURN(images.face, drawing::ImageSurface(card.face_jpeg, "face photo"));
  ASSIGN_OR_RETURN(images.signature, drawing::ImageSurface(card.signature_image, "signature image"));

  auto front = [&](cairo_t* cr) { DrawFront(cr, card.data, places, images); };
  auto back = [&](cairo_t* cr) { DrawBack(cr, card); };
  RenderedCard rendered;
  ASSIGN_OR_RETURN(rendered.front_png, RenderPng(front));
  ASSIGN_OR_RETURN(rendered.back_png, RenderPng(back));

  constexpr double kMmToPoints = kPointsPerInch / kMmPerInch;
  SurfacePtr pdf(cairo_pdf_surface_create_for_stream(AppendToBytes, &rendered.pdf, kCardWidthMm * kMmToPoints,
                                                     kCardHeightMm * kMmToPoints),
                 cairo_surface_destroy);
  ContextPtr cr(cairo_create(pdf.get()), cairo_destroy);
  cairo_scale(cr.get(), kMmToPoints, kMmToPoints);
  front(cr.get());
  cairo_show_page(cr.get());
  back(cr.get());
  cairo_show_page(cr.get());
  cr.reset();
  cairo_surface_finish(pdf.get());
  if (cairo_surface_status(pdf.get()) != CAIRO_STATUS_SUCCESS) {
    return Internal(std::string("card: rendering the PDF failed: ") +
                    cairo_status_to_string(cairo_surface_status(pdf.get())));
  }
  return rendered;
}

}  // namespace ektp::card
