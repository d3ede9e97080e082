/* mem_factory.h — contract-suite factories for the in-memory transport (tests only). */
#ifndef NN_TEST_MEM_FACTORY_H
#define NN_TEST_MEM_FACTORY_H

#include "tests/transport/contract.h"
#include "transport/mem/mem.h"

/* arg of the factory: the link profile every pair gets (NULL = nn_mem_link_default()). */
extern const struct nn_contract_factory nn_mem_factory;
struct nn_contract_factory nn_mem_factory_with(const nn_mem_link *profile, const char *name);

#endif
