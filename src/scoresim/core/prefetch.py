"""A software prefetch for Numba kernels: ``prefetch(array, i)`` asks the CPU to bring the
cache line of ``array[i]`` in, without waiting for it (LLVM's ``llvm.prefetch``; no effect on
results). Kernels that touch agents at random (spilled penalties land on neighbours anywhere
in the population) issue it some steps ahead, so that many cache misses are in flight at once
instead of one after another. The index is not checked: a prefetch of any address is harmless.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.core.extending import intrinsic


@intrinsic
def prefetch(typingctx, array, index):
    """Prefetch array[index] for writing, into every cache level."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        ary = context.make_array(array_type)(context, builder, args[0])
        i = context.cast(builder, args[1], index_type, types.intp)
        ptr = cgutils.get_item_pointer(context, builder, array_type, ary, [i],
                                       wraparound=False)
        byte_ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32]),
            "llvm.prefetch.p0i8")
        # (address, 1: for a write, 3: keep in every level, 1: data cache)
        builder.call(fn, [byte_ptr, ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
