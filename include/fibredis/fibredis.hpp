// The umbrella header: everything a user of fibredis needs.
#pragma once

#include <fibredis/version.hpp>
#include <fibredis/errors.hpp>
#include <fibredis/runtime/runtime.hpp>
#include <fibredis/runtime/cancel.hpp>
#include <fibredis/resp/command.hpp>
#include <fibredis/resp/reply.hpp>
#include <fibredis/conn/options.hpp>
#include <fibredis/client/client.hpp>
#include <fibredis/cluster/cluster_client.hpp>
