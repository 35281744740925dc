// Card render rate: what a print station's CPU spends per card. One thread
// renders N cards (front and back PNG at 300 dpi, the two-page PDF) and signs
// and encodes each chip blob, the work PrintNextCard does besides opening the
// sealed job and the output. Prints JSON; asserts nothing.
//
//   build/dev/src/card/render_benchmark [--cards N]      default 200
//
// Output: cards, seconds, cards_per_second (wall clock, one thread),
// cpu_ms_per_card and cards_per_cpu_second (the thread's CPU time: the figure
// that holds on a busy machine), ms_per_card split into render_ms and
// chip_ms, and the mean bytes of each output.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <time.h>

#include <nlohmann/json.hpp>

#include "card/render.h"
#include "card/testing.h"
#include "core/nik.h"
#include "core/region.h"

namespace {
double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ektp;
  using Clock = std::chrono::steady_clock;
  int cards = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--cards") cards = std::atoi(argv[i + 1]);
  }
  if (cards < 1) {
    std::cerr << "render_benchmark: --cards must be at least 1\n";
    return 2;
  }
  const RegionRegistry& regions = RegionRegistry::Default();
  const crypto::SigningKey central = crypto::SigningKey::Generate();
  card::Card card = card::testing::SampleCard();
  (void)card::RenderCard(card, regions);  // fonts and regions loaded before the clock starts

  Clock::duration render{}, chip{};
  const double cpu_start = ThreadCpuSeconds();
  size_t png_bytes = 0, pdf_bytes = 0, chip_bytes = 0;
  for (int i = 0; i < cards; ++i) {
    card.data.resident.nik = FormatNik("35.21.01", card.data.resident.birth_date, card.data.resident.sex, 1 + i);
    card.data.resident.name = "SITI RAHAYU " + std::to_string(i);
    card.card_serial = std::to_string(1000000 + i);
    const auto start = Clock::now();
    auto rendered = card::RenderCard(card, regions);
    const auto rendered_at = Clock::now();
    auto blob = card::EncodeChip(card, central);
    chip += Clock::now() - rendered_at;
    render += rendered_at - start;
    if (!rendered.ok() || !blob.ok()) {
      std::cerr << "render_benchmark: " << (rendered.ok() ? blob.status() : rendered.status()).ToString() << "\n";
      return 1;
    }
    png_bytes += rendered->front_png.size() + rendered->back_png.size();
    pdf_bytes += rendered->pdf.size();
    chip_bytes += blob->size();
  }
  const double cpu_seconds = ThreadCpuSeconds() - cpu_start;
  const double seconds = std::chrono::duration<double>(render + chip).count();
  const auto ms = [&](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count() / cards; };
  nlohmann::json out = {{"cards", cards},
                        {"seconds", seconds},
                        {"cards_per_second", cards / seconds},
                        {"cpu_ms_per_card", 1000 * cpu_seconds / cards},
                        {"cards_per_cpu_second", cards / cpu_seconds},
                        {"ms_per_card", ms(render + chip)},
                        {"render_ms", ms(render)},
                        {"chip_ms", ms(chip)},
                        {"png_bytes_per_card", png_bytes / cards},
                        {"pdf_bytes_per_card", pdf_bytes / cards},
                        {"chip_bytes_per_card", chip_bytes / cards}};
  std::cout << out.dump(2) << "\n";
  return 0;
}
