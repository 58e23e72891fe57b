"""numpy's PCG64 generator stepped inside compiled code, with its state kept in registers.

The ensemble engine draws each replicate's uniforms from that replicate's own
``numpy.random.Generator`` (PCG64). Calling the generator's C function once per number costs a
call per number; stepping the same generator inline draws the same numbers about twice as fast.
:func:`fill` reads the generator's 128-bit state and increment from numpy's ``pcg64_state``,
advances it exactly as numpy does (XSL-RR output, ``(x >> 11) * 2**-53`` for a double) and writes
the state back, so numpy's generator continues from where the fill stopped.

numpy's state layout is internal, so :func:`layout_matches` checks it once per process against
``Generator.random``; where it does not match, the engine falls back to the generator's C
function (slower, same numbers).
"""

from __future__ import annotations

import ctypes

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from . import _compiled  # noqa: F401  (Numba's cache folder, before anything is compiled)

MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341  # PCG's default, 128 bits
_I64, _I128 = ir.IntType(64), ir.IntType(128)

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def state_address(bit_generator: np.random.BitGenerator) -> int:
    """Address of a numpy bit generator's state: the first field of its ``bitgen_t`` (numpy's
    C API for random numbers), as ``bit_generator.ctypes.state_address`` gives it, without
    building a ctypes interface for each generator."""
    bitgen = _capsule_pointer(bit_generator.capsule, b"BitGenerator")
    return ctypes.c_void_p.from_address(bitgen).value


def _words(builder, address):
    """numpy's pcg64_state starts with a pointer to {state (lo, hi), increment (lo, hi)}."""
    return builder.load(builder.inttoptr(address, _I64.as_pointer().as_pointer()))


@intrinsic
def _load(typingctx, address):
    sig = types.UniTuple(types.uint64, 4)(types.uint64)

    def codegen(context, builder, signature, args):
        words = _words(builder, args[0])
        values = [builder.load(builder.gep(words, [ir.Constant(_I64, k)])) for k in range(4)]
        return context.make_tuple(builder, signature.return_type, values)

    return sig, codegen


@intrinsic
def _store(typingctx, address, lo, hi):
    sig = types.void(types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        words = _words(builder, args[0])
        builder.store(args[1], builder.gep(words, [ir.Constant(_I64, 0)]))
        builder.store(args[2], builder.gep(words, [ir.Constant(_I64, 1)]))
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _step(typingctx, lo, hi, inc_lo, inc_hi):
    """state = state * MULTIPLIER + increment (mod 2**128); returns (lo, hi, 64 output bits)."""
    sig = types.UniTuple(types.uint64, 3)(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        def join(low, high):
            return builder.or_(builder.shl(builder.zext(high, _I128), ir.Constant(_I128, 64)),
                               builder.zext(low, _I128))

        state = builder.add(builder.mul(join(args[0], args[1]), ir.Constant(_I128, MULTIPLIER)),
                            join(args[2], args[3]))
        new_lo = builder.trunc(state, _I64)
        new_hi = builder.trunc(builder.lshr(state, ir.Constant(_I128, 64)), _I64)
        x = builder.xor(new_hi, new_lo)
        rotation = builder.trunc(builder.lshr(state, ir.Constant(_I128, 122)), _I64)
        left = builder.and_(builder.sub(ir.Constant(_I64, 0), rotation), ir.Constant(_I64, 63))
        out = builder.or_(builder.lshr(x, rotation), builder.shl(x, left))
        return context.make_tuple(builder, signature.return_type, [new_lo, new_hi, out])

    return sig, codegen


@numba.njit(cache=True)
def fill(address, out):
    """Fill ``out`` with the next ``out.size`` doubles of the PCG64 generator at ``address``
    (see :func:`state_address`): what ``Generator.random(out=out)`` would give."""
    lo, hi, inc_lo, inc_hi = _load(address)
    for i in range(out.size):
        lo, hi, x = _step(lo, hi, inc_lo, inc_hi)
        out[i] = (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    _store(address, lo, hi)


def layout_matches() -> bool:
    """Does :func:`fill` give ``Generator.random``'s numbers, and leave the generator where
    numpy would, with this numpy?"""
    ours, theirs = np.random.PCG64(20121206), np.random.PCG64(20121206)
    if type(ours) is not np.random.PCG64:
        return False
    drawn = np.empty(8)
    fill(np.uint64(state_address(ours)), drawn)
    reference = np.random.Generator(theirs)
    return bool(np.array_equal(drawn, reference.random(8))
                and np.array_equal(np.random.Generator(ours).random(3), reference.random(3)))
