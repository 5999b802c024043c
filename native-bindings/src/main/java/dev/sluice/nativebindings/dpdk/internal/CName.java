package dev.sluice.nativebindings.dpdk.internal;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The C expression a generated constant was read from, e.g.
 * {@code offsetof(struct rte_mbuf, data_off)}, {@code sizeof(struct rte_mbuf)},
 * {@code bitfield(struct rte_eth_link, link_status)} or a macro name. The layout test
 * compiles these expressions against the installed headers and compares every value.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface CName
{
    /**
     * @return the C expression.
     */
    String value();
}
