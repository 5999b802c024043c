/**
 * Small command-line programs over the runtime (the full {@code sluice} command is issue 5).
 */
package dev.sluice.driver.tools;
