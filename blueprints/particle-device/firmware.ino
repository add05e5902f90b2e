/*
 * Pinwheel "{{pinwheel.blueprintName}}" blueprint firmware, for any Particle device.
 *
 * Template: {{pinwheel.templateName}} ({{pinwheel.templateId}})
 * Device:   {{pinwheel.deviceName}} (Pinwheel device {{pinwheel.deviceId}})
 * Server:   {{pinwheel.serverUrl}}
 *
 * Up:   every 5 minutes, right after boot and right after each cloud function call the device
 *       publishes the private event "blynk_https_get" with
 *       {"t":"<auth token>","v14":"<uptime ms>","v15":"<volts>","v16":"<switch>","v17":"<LED>"}.
 *       The Particle webhook "pinwheel_particle" turns it into
 *       GET {{pinwheel.serverUrl}}/external/api/batch/update?token=...&V6=<published at>&V14=...
 * Down: the cloud function "blynk_led" takes "on"/"1" or "off"/"0" and returns 1, 0, or -1
 *       for anything else. Pinwheel calls it when the "Particle LED" switch (V16) changes.
 *
 * Datastreams: V6 string (publish time, filled in by the webhook), V14 integer (uptime in ms),
 * V15 double 0..3.3 (voltage on A0), V16 integer 0/1 (switch), V17 integer 0/1 (LED state).
 */
#include "Particle.h"

#define PINWHEEL_TEMPLATE_ID "{{pinwheel.templateId}}"
#define PINWHEEL_TEMPLATE_NAME "{{pinwheel.templateName}}"
#define PINWHEEL_AUTH_TOKEN "{{pinwheel.deviceToken}}"

// The names Blynk's firmware uses, for code copied from Blynk examples.
#define BLYNK_TEMPLATE_ID PINWHEEL_TEMPLATE_ID
#define BLYNK_TEMPLATE_NAME PINWHEEL_TEMPLATE_NAME
#define BLYNK_AUTH_TOKEN PINWHEEL_AUTH_TOKEN

SYSTEM_THREAD(ENABLED);

const char *PUBLISH_EVENT = "blynk_https_get";
const unsigned long PUBLISH_INTERVAL_MS = 300000;  // 5 minutes
const pin_t LED_PIN = D7;                          // the on-board blue LED
const pin_t SENSOR_PIN = A0;                       // anything from 0 to 3.3 V (floating: noise)

unsigned long lastPublishMs = 0;
bool publishPending = true;  // publish as soon as the cloud is connected after boot
int switchState = 0;         // V16: the last state asked for through blynk_led
int ledState = 0;            // V17: what the LED pin actually is

int blynkLed(String command);
bool publishToPinwheel();

void setup() {
  pinMode(LED_PIN, OUTPUT);
  digitalWrite(LED_PIN, LOW);
  Particle.function("blynk_led", blynkLed);
}

void loop() {
  if (!Particle.connected()) {
    return;
  }
  if (publishPending || millis() - lastPublishMs >= PUBLISH_INTERVAL_MS) {
    if (publishToPinwheel()) {
      publishPending = false;
      lastPublishMs = millis();
    }
  }
}

/*
 * Cloud function "blynk_led": "on" or "1" switches the LED on and returns 1, "off" or "0"
 * switches it off and returns 0; anything else changes nothing and returns -1.
 * A successful call publishes the new state at once so V16 and V17 follow.
 */
int blynkLed(String command) {
  command.trim();
  command.toLowerCase();
  int result;
  if (command == "on" || command == "1") {
    result = 1;
  } else if (command == "off" || command == "0") {
    result = 0;
  } else {
    return -1;
  }
  digitalWrite(LED_PIN, result == 1 ? HIGH : LOW);
  switchState = result;
  ledState = digitalRead(LED_PIN) == HIGH ? 1 : 0;
  publishPending = true;
  return result;
}

/*
 * Publishes the values as a JSON object of strings. The JSON must be complete: if it were
 * truncated, every {{...}} variable of the webhook would render empty and Pinwheel would
 * answer "Invalid token.", so a too-small buffer skips the publish instead.
 */
bool publishToPinwheel() {
  // V14 is a signed 32-bit integer datastream: keep uptime within 0..2147483647.
  unsigned long uptimeMs = millis() & 0x7FFFFFFFUL;
  double volts = analogRead(SENSOR_PIN) * 3.3 / 4095.0;
  ledState = digitalRead(LED_PIN) == HIGH ? 1 : 0;

  char data[192];
  int n = snprintf(data, sizeof(data), "{\"t\":\"%s\",\"v14\":\"%lu\",\"v15\":\"%f\",\"v16\":\"%d\",\"v17\":\"%d\"}",
                   PINWHEEL_AUTH_TOKEN, uptimeMs, volts, switchState, ledState);
  if (n < 0 || n >= (int)sizeof(data)) {
    return false;
  }
  return Particle.publish(PUBLISH_EVENT, data, PRIVATE);
}
