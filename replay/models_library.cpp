// Anchors the tapfault_models library (replay/model_*.cpp): the library's version string.
namespace tapfault::replay::model {
const char* models_library_version() { return "tapfault-models 1"; }
}  // namespace tapfault::replay::model
