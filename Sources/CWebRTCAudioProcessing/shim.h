/* libwebrtc-audio-processing-dev (0.3): its headers are C++ only, so Swift imports nothing from
   here. The target exists for pkg-config: it hands CWebRTCVAD (the C++ shim that Swift calls) the
   include path -I/usr/include/webrtc_audio_processing, and the hub's link the library. SwiftPM drops
   the two -D flags of the .pc file (it allows only -I and -F), so CWebRTCVAD defines them itself. */
