/* cronet_export.h: the export macro of Cronet's C API (cronc's
 * libcronet.so). Symbols marked CRONET_EXPORT are the library's whole
 * dynamic interface. */
#ifndef COMPONENTS_CRONET_NATIVE_INCLUDE_CRONET_EXPORT_H_
#define COMPONENTS_CRONET_NATIVE_INCLUDE_CRONET_EXPORT_H_

#if defined(WIN32)
#define CRONET_EXPORT __declspec(dllexport)
#else
#define CRONET_EXPORT __attribute__((visibility("default")))
#endif

#endif /* COMPONENTS_CRONET_NATIVE_INCLUDE_CRONET_EXPORT_H_ */
