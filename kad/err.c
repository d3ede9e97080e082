/* err.c — names and descriptions of NN_E* codes. */
#include "kad/nn_err.h"

const char *nn_strerror(int err)
{
	switch (err) {
	case NN_OK:
		return "success";
#define NN_ERR_DESC_(name, value, desc) \
	case NN_##name:                 \
		return desc;
		NN_ERR_LIST(NN_ERR_DESC_)
#undef NN_ERR_DESC_
	}
	return "unknown error";
}

const char *nn_errname(int err)
{
	switch (err) {
	case NN_OK:
		return "OK";
#define NN_ERR_NAME_(name, value, desc) \
	case NN_##name:                 \
		return #name;
		NN_ERR_LIST(NN_ERR_NAME_)
#undef NN_ERR_NAME_
	}
	return "EUNKNOWN";
}
