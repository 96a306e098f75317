/* Stands in for a layer that has no sources yet. */
typedef int cronc_empty_module;
